package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestRelay: the configured paths show from the start, down with no
// reconnects; others are not counted (the label stays bounded).
func TestRelay(t *testing.T) {
	m := New()
	m.RelaySources([]string{"cams/door", "yard"})
	m.RelayUp("yard", true)
	m.RelayReconnect("cams/door")
	m.RelayReconnect("cams/door")
	m.RelayUp("not/configured", true)
	m.RelayReconnect("not/configured")
	want := `
# HELP actorstream_relay_reconnects_total Attempts to reach a relayed path's upstream again after it could not be reached or was lost (each followed by a backoff).
# TYPE actorstream_relay_reconnects_total counter
actorstream_relay_reconnects_total{path="cams/door"} 2
actorstream_relay_reconnects_total{path="yard"} 0
# HELP actorstream_relay_upstream_up 1 while a relayed path's upstream is pulled and its frames flow, 0 while it is not pulled (no viewer) or being retried.
# TYPE actorstream_relay_upstream_up gauge
actorstream_relay_upstream_up{path="cams/door"} 0
actorstream_relay_upstream_up{path="yard"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "actorstream_relay_upstream_up", "actorstream_relay_reconnects_total"); err != nil {
		t.Fatal(err)
	}
	var nilM *Metrics
	nilM.RelaySources([]string{"x"})
	nilM.RelayUp("x", true)
	nilM.RelayReconnect("x")
}
