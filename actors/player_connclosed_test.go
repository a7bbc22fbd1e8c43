package actors

import (
	"errors"
	"net/url"
	"testing"
	"time"
)

// TestPlayerServerHangsUp: a server that closes the connection while its
// stream plays, without an RTCP BYE first, ends the session with
// ErrServerClosed; after a BYE, or while nothing plays, the close is
// the ordinary end of a session.
func TestPlayerServerHangsUp(t *testing.T) {
	u, _ := url.Parse("rtsp://127.0.0.1:8554/clip.mjpeg")
	for _, tc := range []struct {
		name string
		play bool
		bye  bool
		want error
	}{
		{"playing, no BYE", true, false, ErrServerClosed},
		{"playing, after a BYE", true, true, nil},
		{"set up, not playing", false, false, nil},
	} {
		s := startPlayer(t, PlayerConfig{URL: u, Dialect: DialectRFC, Transport: TransportUDP, ClientPorts: [2]int{5000, 5001}}, rfcAnswer)
		cmds := []func(chan<- error) any{setupCmd}
		if tc.play {
			cmds = append(cmds, playCmd)
		}
		for _, c := range cmds {
			if err := s.cmd(c); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
		}
		s.tell(&ConnClosed{Bye: tc.bye})
		select {
		case err := <-s.done:
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Errorf("%s: the session ended with %v, want %v", tc.name, err, tc.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: the session did not end", tc.name)
		}
	}
}
