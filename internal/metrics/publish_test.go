package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestPublishPacketsDropped(t *testing.T) {
	m := New()
	m.PublishPacketsDropped(PublishPaused, 3)
	m.PublishPacketsDropped(PublishBeforeRecord, 1)
	m.PublishPacketsDropped(PublishBehind, 0) // nothing dropped: nothing counted
	m.PublishPacketsDropped("made up", 2)
	want := `
# HELP actorstream_publish_packets_dropped_total Packets a publisher sent that the server dropped unread, by reason: before_record (before its first RECORD), paused (while paused), pipeline_behind (its receiving pipeline's queue was full).
# TYPE actorstream_publish_packets_dropped_total counter
actorstream_publish_packets_dropped_total{reason="before_record"} 1
actorstream_publish_packets_dropped_total{reason="other"} 2
actorstream_publish_packets_dropped_total{reason="paused"} 3
actorstream_publish_packets_dropped_total{reason="pipeline_behind"} 0
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "actorstream_publish_packets_dropped_total"); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { m.PublishPacketsDropped(PublishPaused, 1) }); n != 0 {
		t.Errorf("PublishPacketsDropped allocates %v times per call", n)
	}
	var nilM *Metrics
	nilM.PublishPacketsDropped(PublishPaused, 1)
}
