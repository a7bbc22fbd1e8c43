package server

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/internal/auth"
	"github.com/actorstream/actorstream/internal/enginetest"
)

// authServer requires Digest authentication: alice may play anything, bob
// only lab.mjpeg.
func authServer(t *testing.T) *testServer {
	var lines []string
	for _, u := range []struct {
		name, pw string
		paths    []string
	}{{"alice", "wonderland", nil}, {"bob", "builder", []string{"lab.mjpeg"}}} {
		line, err := auth.FormatUser(u.name, u.pw, "test", u.paths)
		enginetest.Must(t, err)
		lines = append(lines, line)
	}
	users, err := auth.ParseUsers(strings.NewReader(strings.Join(lines, "\n") + "\n"))
	enginetest.Must(t, err)
	return startServer(t, Config{FPS: 50, Auth: &auth.Authenticator{Users: users, Realm: "test"}})
}

func TestAuthentication(t *testing.T) {
	ts := authServer(t)
	url := func(user string) string {
		return strings.Replace(ts.url("clip.mjpeg"), "rtsp://", "rtsp://"+user+"@", 1)
	}
	t.Run("right password plays", func(t *testing.T) {
		col := enginetest.NewCollector()
		c := enginetest.DialClient(t, client.Config{URL: url("alice:wonderland"), Output: col.Output})
		enginetest.Must(t, c.Setup())
		enginetest.Must(t, c.Play())
		col.WaitFrames(t, 5, 5*time.Second)
	})
	t.Run("credentials from the config", func(t *testing.T) {
		c := enginetest.DialClient(t, client.Config{URL: ts.url("clip.mjpeg"), User: "alice", Password: "wonderland"})
		enginetest.Must(t, c.Setup())
	})
	cases := []struct {
		name, url, want string
		code            int
	}{
		{"wrong password", url("alice:looking-glass"), "401 Unauthorized: wrong user name or password", 401},
		{"unknown user", url("carol:x"), "401 Unauthorized: wrong user name or password", 401},
		{"no credentials", ts.url("clip.mjpeg"), "401 Unauthorized: the server wants credentials", 401},
		{"no permission on the path", url("bob:builder"), "403 Forbidden", 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := enginetest.DialClient(t, client.Config{URL: tc.url})
			start := time.Now()
			err := c.Setup()
			var se *actors.ServerError
			if !errors.As(err, &se) || se.Code != tc.code || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("Setup: %v, want %q", err, tc.want)
			}
			if took := time.Since(start); took > 3*time.Second {
				t.Fatalf("refusal took %v: should be immediate, not a hang", took)
			}
		})
	}
	t.Run("bob plays what he may", func(t *testing.T) {
		c := enginetest.DialClient(t, client.Config{URL: strings.Replace(ts.url("lab.mjpeg"), "rtsp://", "rtsp://bob:builder@", 1)})
		enginetest.Must(t, c.Setup())
	})
}
