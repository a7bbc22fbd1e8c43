package cluster

import (
	"slices"
	"testing"
	"time"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/internal/enginetest"
)

// firstFrame plays url with our client until its first frame, and says
// how long the client took to be set up (dialled to PLAY answered: the
// RTSP exchanges, a redirect's among them) and to its first frame (the
// same, plus waiting for the publisher's next frame).
func firstFrame(t *testing.T, url string) (setup, first time.Duration) {
	t.Helper()
	col := enginetest.NewCollector()
	began := time.Now()
	c, err := client.Dial(t.Context(), client.Config{URL: url, Transport: actors.TransportTCP, Output: col.Output, Log: enginetest.Logger(t)})
	enginetest.Must(t, err)
	defer c.Close()
	enginetest.Must(t, c.Setup())
	enginetest.Must(t, c.Play())
	setup = time.Since(began)
	col.WaitFrames(t, 1, 10*time.Second)
	return setup, time.Since(began)
}

// logTimeToFirstFrame logs what going through the front door adds to a
// viewer's time to its first frame: the median of tries viewers straight
// to the edge and of tries through the door (sent to an edge), taken in
// turns. A figure for SCALING.md, not judged: on a shared machine a
// timing is no pass/fail.
func logTimeToFirstFrame(t *testing.T, direct, door string, tries int) {
	t.Helper()
	var ds, df, rs, rf []time.Duration
	for range tries {
		s, f := firstFrame(t, direct)
		ds, df = append(ds, s), append(df, f)
		s, f = firstFrame(t, door)
		rs, rf = append(rs, s), append(rf, f)
	}
	med := func(d []time.Duration) time.Duration {
		slices.Sort(d)
		return d[len(d)/2]
	}
	t.Logf("time to first frame, median of %d (our client, TCP, loopback): direct %v (set up in %v), through the front door %v (set up in %v): the door adds %v to the set-up",
		tries, med(df), med(ds), med(rf), med(rs), med(rs)-med(ds))
}
