package server

import (
	"io"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/internal/metrics"
)

// TestMetricsMoveDuringAStream scrapes /metrics while a client plays and
// checks that the counters a dashboard would watch move.
func TestMetricsMoveDuringAStream(t *testing.T) {
	m := metrics.New()
	ts := startServer(t, Config{FPS: 50, Loop: true, Metrics: m})
	web := httptest.NewServer(m.Handler())
	defer web.Close()
	scrape := func() string {
		resp, err := web.Client().Get(web.URL)
		enginetest.Must(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		enginetest.Must(t, err)
		return string(b)
	}
	value := func(text, series string) float64 {
		re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` ([0-9.e+]+)$`)
		m := re.FindStringSubmatch(text)
		if m == nil {
			return -1
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}

	col := enginetest.NewCollector()
	c := enginetest.DialClient(t, client.Config{URL: ts.url("clip.mjpeg"), Transport: "udp", Output: col.Output})
	enginetest.Must(t, c.Setup())
	enginetest.Must(t, c.Play())
	col.WaitFrames(t, 20, 5*time.Second)
	first := scrape()
	if v := value(first, `actorstream_sessions{state="playing",transport="udp"}`); v != 1 {
		t.Fatalf("playing UDP sessions = %v, want 1\n%s", v, grep(first, "actorstream_sessions"))
	}
	if v := value(first, `actorstream_rtsp_requests_total{method="PLAY",status="200"}`); v != 1 {
		t.Fatalf("PLAY 200 requests = %v\n%s", v, grep(first, "actorstream_rtsp"))
	}
	if v := value(first, `actorstream_connections`); v < 1 {
		t.Fatalf("connections = %v", v)
	}
	sent := value(first, "actorstream_rtp_packets_sent_total")
	if sent < 15 || value(first, "actorstream_rtp_bytes_sent_total") < 15*100 { // counted just after each send
		t.Fatalf("packets sent %v", sent)
	}
	if v := value(first, "actorstream_pacing_lateness_seconds_count"); v < 15 {
		t.Fatalf("pacing lateness observations %v", v)
	}
	// The client's first Receiver Report comes after 5 s.
	time.Sleep(5500 * time.Millisecond)
	later := scrape()
	if value(later, "actorstream_rtp_packets_sent_total") <= sent {
		t.Fatal("packets sent did not grow")
	}
	if v := value(later, "actorstream_rtcp_receiver_reports_total"); v < 1 {
		t.Fatalf("receiver reports = %v\n%s", v, grep(later, "actorstream_rtcp"))
	}
	enginetest.Must(t, c.Teardown())
	deadline := time.Now().Add(5 * time.Second)
	for value(scrape(), `actorstream_sessions{state="playing",transport="udp"}`) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("playing session gauge not back to 0 after TEARDOWN\n%s", grep(scrape(), "actorstream_sessions"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if v := value(scrape(), `actorstream_sessions_ended_total{reason="teardown"}`); v != 1 {
		t.Fatalf("sessions ended by teardown = %v\n%s", v, grep(scrape(), "actorstream_sessions"))
	}
}

func grep(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
