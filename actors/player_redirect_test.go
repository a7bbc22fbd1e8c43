package actors

import (
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/actorstream/actorstream/internal/rtsp"
)

// redirectingPlayer is a player whose server is a front door at door:
// where answers each request, by the host it went to (the player's URL
// when it was sent); Redial records the new servers.
func redirectingPlayer(t *testing.T, where func(host string, req *rtsp.Request) *rtsp.Response) (*scriptedServer, *[]string) {
	t.Helper()
	u, _ := url.Parse("rtsp://door:8554/live/cam?token=1")
	var mu sync.Mutex
	host := u.Host
	var dialed []string
	s := &scriptedServer{}
	s.wireServer = newWireServer(t, func(req *rtsp.Request) *rtsp.Response {
		mu.Lock()
		h := host
		mu.Unlock()
		return where(h, req)
	})
	cfg := PlayerConfig{URL: u, Dialect: DialectRFC, Transport: TransportTCP, User: "alice", Password: "pw"}
	cfg.Hooks = PlayerHooks{
		Send: s.send,
		Done: func(err error) { s.done <- err },
		Redial: func(to *url.URL) {
			mu.Lock()
			host = to.Host
			dialed = append(dialed, to.String())
			mu.Unlock()
			s.tell(&Redialed{})
		},
	}
	s.spawn(NewPlayer(cfg))
	return s, &dialed
}

func moved(req *rtsp.Request, location string) *rtsp.Response {
	resp := rfcAnswer(req)
	resp.StatusCode, resp.Reason, resp.Body = 302, "Moved Temporarily", nil
	if location != "" {
		resp.Header.Set("Location", location)
	}
	return resp
}

// TestPlayerFollowsRedirect: a 302 to DESCRIBE sends the player to the
// Location's server on a new connection, where it asks DESCRIBE again and
// sets up there (the query kept, the credentials its own, not in the URL).
func TestPlayerFollowsRedirect(t *testing.T) {
	s, dialed := redirectingPlayer(t, func(host string, req *rtsp.Request) *rtsp.Response {
		if host == "door:8554" && req.Method == "DESCRIBE" {
			return moved(req, "rtsp://edge2:8554/live/cam?token=1")
		}
		return rfcAnswer(req)
	})
	if err := s.cmd(setupCmd); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.methods(), " "); got != "OPTIONS DESCRIBE DESCRIBE SETUP" {
		t.Fatalf("requests %q", got)
	}
	if len(*dialed) != 1 || (*dialed)[0] != "rtsp://edge2:8554/live/cam?token=1" {
		t.Fatalf("new connections to %q, want one to edge2", *dialed)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.requests[2]; d.URL != "rtsp://edge2:8554/live/cam?token=1" {
		t.Fatalf("second DESCRIBE to %s", d.URL)
	}
	if setup := s.requests[3]; !strings.HasPrefix(setup.URL, "rtsp://edge2:8554/live/cam") {
		t.Fatalf("SETUP to %s, want the edge", setup.URL)
	}
}

// TestPlayerRedirectErrors: a redirect loop ends after maxRedirects, and
// a redirect without a Location, or from rtsp:// to another scheme, is
// not followed; each says why.
func TestPlayerRedirectErrors(t *testing.T) {
	for _, tc := range []struct {
		name, location, want string
		hops                 int
	}{
		{"loop", "rtsp://door:8554/live/cam", "more than 5 redirects", maxRedirects},
		{"no location", "", "without a Location", 0},
		{"scheme", "http://edge2/live/cam", "not followed from rtsp:// to http://", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, dialed := redirectingPlayer(t, func(host string, req *rtsp.Request) *rtsp.Response {
				if req.Method == "DESCRIBE" {
					return moved(req, tc.location)
				}
				return rfcAnswer(req)
			})
			err := s.cmd(setupCmd)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("SETUP: %v, want an error saying %q", err, tc.want)
			}
			if len(*dialed) != tc.hops {
				t.Fatalf("%d new connections, want %d", len(*dialed), tc.hops)
			}
		})
	}
}
