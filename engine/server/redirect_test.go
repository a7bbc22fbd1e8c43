package server

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/actorstream/actorstream/internal/auth"
	"github.com/actorstream/actorstream/internal/enginetest"
)

// fakePlacement sends every viewer to its server (none when ""),
// recording the paths it was asked about.
type fakePlacement struct {
	mu     sync.Mutex
	server string
	asked  []string
}

func (p *fakePlacement) Place(_ context.Context, name string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.asked = append(p.asked, name)
	return p.server, nil
}

// TestRedirect: a front door answers DESCRIBE with 302 and the same path
// and query on the chosen server, without the request's user
// information; OPTIONS, the lab dialect, a viewer placed here or on a
// server of another scheme, and a pull by another server of the group
// are served here.
func TestRedirect(t *testing.T) {
	p := &fakePlacement{server: "rtsp://edge2.example:8554"}
	ts := startServer(t, Config{Placement: p})
	c := dial(t, ts.addr)
	if resp := c.do("OPTIONS", ts.url("clip.mjpeg")); resp.StatusCode != 200 {
		t.Fatalf("OPTIONS: %d, want 200 (served here)", resp.StatusCode)
	}
	resp := c.do("DESCRIBE", "rtsp://u:p@"+ts.addr+"/live/a%20b?token=x&y=1")
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "rtsp://edge2.example:8554/live/a%20b?token=x&y=1" {
		t.Fatalf("DESCRIBE: %d Location %q, want 302 to the same path and query on edge2", resp.StatusCode, resp.Header.Get("Location"))
	}
	if cseq, _ := resp.CSeq(); cseq != "2" {
		t.Fatalf("302 with CSeq %q", cseq)
	}
	p.mu.Lock()
	asked := strings.Join(p.asked, ",")
	p.server = ""
	p.mu.Unlock()
	if asked != "live/a b" {
		t.Fatalf("placement asked about %q, want the path's name", asked)
	}
	if resp := c.do("DESCRIBE", ts.url("clip.mjpeg")); resp.StatusCode != 200 {
		t.Fatalf("DESCRIBE placed here: %d, want 200", resp.StatusCode)
	}
	p.mu.Lock()
	p.server = "rtsp://edge2.example:8554"
	p.mu.Unlock()
	// A server of another scheme: served here.
	p.mu.Lock()
	p.server = "rtsps://edge2.example:8322"
	p.mu.Unlock()
	if resp := c.do("DESCRIBE", ts.url("clip.mjpeg")); resp.StatusCode != 200 {
		t.Fatalf("DESCRIBE placed on an rtsps:// server: %d, want 200 (no change of scheme)", resp.StatusCode)
	}
	p.mu.Lock()
	p.server = "rtsp://edge2.example:8554"
	p.mu.Unlock()
	// Another server of the group pulling the path: served here.
	if resp := c.do("DESCRIBE", ts.url("clip.mjpeg"), "User-Agent: "+ClusterAgent); resp.StatusCode != 200 {
		t.Fatalf("DESCRIBE of a pull: %d, want 200 (never redirected)", resp.StatusCode)
	}

	// The lab client follows no redirect: its requests are served here.
	lab := dial(t, ts.addr)
	lab.write("SETUP lab.mjpeg RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/UDP; client_port= 25000\r\n\r\n")
	if resp := lab.response(); resp.StatusCode != 200 {
		t.Fatalf("lab SETUP at a front door: %d, want 200", resp.StatusCode)
	}
}

// TestRedirectAfterAuthentication: with users, a front door challenges
// first (a client without credentials learns nothing of the other
// servers), and redirects once the viewer is authenticated.
func TestRedirectAfterAuthentication(t *testing.T) {
	line, err := auth.FormatUser("alice", "wonderland", "test", nil)
	enginetest.Must(t, err)
	users, err := auth.ParseUsers(strings.NewReader(line + "\n"))
	enginetest.Must(t, err)
	p := &fakePlacement{server: "rtsp://edge2.example:8554"}
	ts := startServer(t, Config{Placement: p, Auth: &auth.Authenticator{Users: users, Realm: "test", AllowBasic: true}})
	c := dial(t, ts.addr)
	if resp := c.do("DESCRIBE", ts.url("clip.mjpeg")); resp.StatusCode != 401 {
		t.Fatalf("DESCRIBE without credentials: %d, want 401", resp.StatusCode)
	}
	p.mu.Lock()
	asked := len(p.asked)
	p.mu.Unlock()
	if asked != 0 {
		t.Fatal("placement asked before authentication")
	}
	cl := &auth.Client{User: "alice", Password: "wonderland"}
	if _, err := cl.Update([]string{`Basic realm="test"`}, true); err != nil {
		t.Fatal(err)
	}
	resp := c.do("DESCRIBE", ts.url("clip.mjpeg"), "Authorization: "+cl.Authorize("DESCRIBE", ts.url("clip.mjpeg")))
	if resp.StatusCode != 302 {
		t.Fatalf("authenticated DESCRIBE: %d, want 302", resp.StatusCode)
	}
}
