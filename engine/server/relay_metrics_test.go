package server

import (
	"testing"
	"time"

	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/internal/metrics"
)

// TestRelayMetrics: actorstream_relay_upstream_up{path} is 0 before anyone
// watches, 1 while frames flow, 0 while the upstream is lost (each new
// attempt counted in actorstream_relay_reconnects_total{path}) and again
// once the relay released the upstream, with no viewer left.
func TestRelayMetrics(t *testing.T) {
	up := startUpstream(t, Config{})
	m := metrics.New()
	rs := startServer(t, Config{Metrics: m, SourceLinger: 200 * time.Millisecond, Sources: []Source{{Path: "cams/door", URL: up.url("", "clip.mjpeg")}}})
	const upSeries, reconnects = `actorstream_relay_upstream_up{path="cams/door"}`, `actorstream_relay_reconnects_total{path="cams/door"}`
	if v, r := scrapeValue(t, m, upSeries), scrapeValue(t, m, reconnects); v != 0 || r != 0 {
		t.Fatalf("before any viewer: up %v, reconnects %v; want both shown, 0", v, r)
	}
	c, col := viewer(t, rs.url("cams/door"))
	col.WaitFrames(t, 5, 10*time.Second)
	if v := scrapeValue(t, m, upSeries); v != 1 {
		t.Fatalf("pulling: up %v, want 1", v)
	}
	up.stop()
	eventually(t, 10*time.Second, "up back to 0 and a reconnect counted with the upstream gone", func() bool {
		return scrapeValue(t, m, upSeries) == 0 && scrapeValue(t, m, reconnects) >= 1
	})
	up.start()
	eventually(t, 15*time.Second, "up 1 again with the upstream back", func() bool { return scrapeValue(t, m, upSeries) == 1 })
	enginetest.Must(t, c.Teardown())
	eventually(t, 10*time.Second, "up 0 once the relay released the upstream", func() bool { return scrapeValue(t, m, upSeries) == 0 })
}
