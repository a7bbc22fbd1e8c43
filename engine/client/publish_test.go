package client_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/auth"
	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/internal/testcert"
)

// writeClip writes n test frames (w×h, baseline 4:2:0, which RFC 2435
// carries as they are) as a raw MJPEG file with a .fps file beside it, and
// returns its path and frames.
func writeClip(t *testing.T, w, h, n int, fps string) (string, [][]byte) {
	t.Helper()
	dir := t.TempDir()
	var all []byte
	var frames [][]byte
	for i := range n {
		f := enginetest.NoiseJPEG(t, w, h, i+1)
		frames = append(frames, f)
		all = append(all, f...)
	}
	path := filepath.Join(dir, "clip.mjpeg")
	enginetest.Must(t, os.WriteFile(path, all, 0o644))
	enginetest.Must(t, os.WriteFile(path+".fps", []byte(fps), 0o644))
	return path, frames
}

// freePort is a loopback TCP port nobody listens on (for a peer that
// listens there next).
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	enginetest.Must(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// publishWhenListening publishes cfg, retrying while the server is not
// listening yet: a peer that accepts one connection (ffmpeg's listen
// mode) must not be probed.
func publishWhenListening(t *testing.T, cfg client.PublishConfig) *client.Publisher {
	t.Helper()
	if cfg.Log == nil {
		cfg.Log = enginetest.Logger(t)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		p, err := client.Publish(t.Context(), cfg)
		if err == nil {
			t.Cleanup(func() { p.Close() })
			return p
		}
		var op *net.OpError
		if !errors.As(err, &op) || time.Now().After(deadline) {
			t.Fatalf("publish: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitDone waits for the publication's end and returns its error.
func waitDone(t *testing.T, p *client.Publisher, within time.Duration) error {
	t.Helper()
	select {
	case <-p.Done():
		return p.Err()
	case <-time.After(within):
		t.Fatalf("publication not over after %s", within)
		return nil
	}
}

// Our client publishes to ffmpeg's RTSP listen mode (ANNOUNCE, SETUP
// record, RECORD), over UDP and TCP, and ffmpeg's recording has the
// frames: every one over TCP, nearly every one over UDP, with the pixels
// of the file's.
func TestPublishToFFmpegListen(t *testing.T) {
	needPeer(t, "ffmpeg")
	const n = 30
	path, frames := writeClip(t, 160, 120, n, "25")
	for _, transport := range []string{"tcp", "udp"} {
		t.Run(transport, func(t *testing.T) {
			port := strconv.Itoa(freePort(t))
			out := filepath.Join(t.TempDir(), "out.mjpeg")
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			var stderr enginetest.SyncBuffer
			ff := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-v", "error", "-rtsp_flags", "listen",
				"-f", "rtsp", "-i", "rtsp://127.0.0.1:"+port+"/live/x", "-c", "copy", "-f", "mjpeg", "-y", out)
			ff.Stderr = &stderr
			enginetest.Must(t, ff.Start())
			exited := make(chan error, 1)
			go func() { exited <- ff.Wait() }()

			p := publishWhenListening(t, client.PublishConfig{URL: "rtsp://127.0.0.1:" + port + "/live/x", File: path, Transport: transport})
			if err := waitDone(t, p, 15*time.Second); err != nil {
				t.Fatalf("publication ended with %v", err)
			}
			select {
			case err := <-exited:
				if err != nil {
					t.Fatalf("ffmpeg: %v\n%s", err, stderr.String())
				}
			case <-time.After(15 * time.Second):
				t.Fatalf("ffmpeg did not end after TEARDOWN\n%s", stderr.String())
			}
			got := enginetest.FileFrames(t, out)
			switch {
			case transport == "tcp" && len(got) != n:
				t.Fatalf("ffmpeg recorded %d frames over TCP, want %d", len(got), n)
			case len(got) < n-2 || len(got) > n:
				t.Fatalf("ffmpeg recorded %d frames over UDP, want %d (2 may be lost)", len(got), n)
			}
			if !enginetest.SamePixels(t, got[0], frames[0]) {
				t.Error("first frame: ffmpeg's pixels differ from the file's")
			}
			if transport == "tcp" {
				for i := range got {
					if !enginetest.SamePixels(t, got[i], frames[i]) {
						t.Errorf("frame %d: ffmpeg's pixels differ from the file's", i)
					}
				}
			}
			if st := p.Stats(); st.Packets == 0 {
				t.Error("no packets counted as sent")
			}
		})
	}
}

// Our client publishes to our server (a looping clip, over UDP and TCP)
// and our client plays the path: every frame it gets has the pixels of a
// frame of the file, in the file's order, at the file's rate; the
// server's Receiver Reports are read.
func TestPublishToOurServer(t *testing.T) {
	const n = 10
	path, frames := writeClip(t, 160, 120, n, "25")
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			ts := startServerIn(t, t.TempDir(), server.Config{})
			url := ts.url("live/cam")
			pub := publishWhenListening(t, client.PublishConfig{URL: url, File: path, Loop: true, Transport: transport})

			col := enginetest.NewCollector()
			var viewer *client.Client
			deadline := time.Now().Add(10 * time.Second)
			for viewer == nil {
				c, err := client.Dial(t.Context(), client.Config{URL: url, Transport: transport, Output: col.Output, Log: enginetest.Logger(t)})
				enginetest.Must(t, err)
				if err = c.Setup(); err == nil {
					viewer = c
					break
				}
				c.Close()
				if time.Now().After(deadline) {
					t.Fatalf("the published path never became playable: %v", err)
				}
				time.Sleep(100 * time.Millisecond)
			}
			t.Cleanup(func() { viewer.Close() })
			if fps := viewer.Info().FPS; fps != 25 {
				t.Errorf("viewers told %g fps, want the file's 25", fps)
			}
			enginetest.Must(t, viewer.Play())
			start := time.Now()
			col.WaitFrames(t, 2*n, 10*time.Second)
			if rate := float64(col.Count()-1) / time.Since(start).Seconds(); rate > 30 {
				t.Errorf("%.1f frames/s arrived from a 25 fps publication", rate)
			}
			got := col.All()
			prev := -1
			for i, g := range got {
				idx := -1
				for k, f := range frames {
					if enginetest.SamePixels(t, g, f) {
						idx = k
						break
					}
				}
				if idx < 0 {
					t.Fatalf("frame %d received is none of the file's", i)
				}
				if prev >= 0 && idx != (prev+1)%n && transport == "tcp" {
					t.Errorf("frame %d received is the file's %d after its %d", i, idx, prev)
				}
				prev = idx
			}
			select {
			case <-pub.Done():
				t.Fatalf("the looping publication ended: %v", pub.Err())
			default:
			}
			// The server's Receiver Reports (every 2 s) reach us.
			for st := pub.Stats(); st.ReceiverReports == 0; st = pub.Stats() {
				if time.Since(start) > 8*time.Second {
					t.Fatalf("no Receiver Report read from the server: %+v", st)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if st := pub.Stats(); st.FractionLost > 0.1 {
				t.Errorf("the server reports %.0f%% lost on loopback", st.FractionLost*100)
			}
			enginetest.Must(t, pub.Close())
			if err := pub.Err(); err != nil {
				t.Errorf("publication closed with %v", err)
			}
		})
	}
}

// A second publisher on a path in use hears our server's 455 and what it
// means; the first goes on.
func TestPublishPathBusyOnOurServer(t *testing.T) {
	path, _ := writeClip(t, 64, 48, 5, "25")
	ts := startServerIn(t, t.TempDir(), server.Config{})
	url := ts.url("live/cam")
	first := publishWhenListening(t, client.PublishConfig{URL: url, File: path, Loop: true, Transport: "tcp"})
	_, err := client.Publish(t.Context(), client.PublishConfig{URL: url, File: path, Transport: "tcp", Log: enginetest.Logger(t)})
	if err == nil || !strings.Contains(err.Error(), "455") || !strings.Contains(err.Error(), "another publisher") {
		t.Fatalf("second publisher: %v", err)
	}
	select {
	case <-first.Done():
		t.Fatalf("the first publication ended: %v", first.Err())
	case <-time.After(300 * time.Millisecond):
	}
}

// Against our server with users: the right password publishes (Digest),
// a wrong one hears 401 and that the password is wrong, a user without
// the path or without the right to publish hears 403.
func TestPublishAuthenticated(t *testing.T) {
	path, _ := writeClip(t, 64, 48, 5, "25")
	var lines []string
	for _, u := range []struct {
		name, pw string
		paths    []string
		rights   []auth.Right
	}{
		{"alice", "wonderland", nil, []auth.Right{auth.RightRead, auth.RightPublish}},
		{"bob", "builder", []string{"other/**"}, []auth.Right{auth.RightRead, auth.RightPublish}},
		{"carol", "reader", nil, nil},
	} {
		line, err := auth.FormatUser(u.name, u.pw, "test", u.paths, u.rights...)
		enginetest.Must(t, err)
		lines = append(lines, line)
	}
	users, err := auth.ParseUsers(strings.NewReader(strings.Join(lines, "\n") + "\n"))
	enginetest.Must(t, err)
	ts := startServerIn(t, t.TempDir(), server.Config{Auth: &auth.Authenticator{Users: users, Realm: "test"}})
	url := ts.url("live/cam")

	_, err = client.Publish(t.Context(), client.PublishConfig{URL: url, File: path, User: "alice", Password: "nope", Log: enginetest.Logger(t)})
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "wrong user name or password") {
		t.Errorf("wrong password: %v", err)
	}
	_, err = client.Publish(t.Context(), client.PublishConfig{URL: url, File: path, User: "bob", Password: "builder", Log: enginetest.Logger(t)})
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("bob publishing to live/cam: %v", err)
	}
	_, err = client.Publish(t.Context(), client.PublishConfig{URL: url, File: path, User: "carol", Password: "reader", Log: enginetest.Logger(t)})
	if err == nil || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "does not let you publish") {
		t.Errorf("carol, who may only read, publishing: %v", err)
	}
	p := publishWhenListening(t, client.PublishConfig{URL: strings.Replace(url, "rtsp://", "rtsp://alice:wonderland@", 1), File: path})
	if err := waitDone(t, p, 10*time.Second); err != nil {
		t.Fatalf("alice's publication ended with %v", err)
	}
}

// A file RFC 2435 cannot carry as it is (4:4:4, as the lab's movie) in a
// container with its own rate (AVI, 30 fps): the SDP says 30, and every
// frame goes out conformed to baseline 4:2:0 (RFC 2435 type 1) and paced
// 3000 RTP units apart.
func TestPublishConformsAndUsesTheContainersRate(t *testing.T) {
	needPeer(t, "ffmpeg")
	const n = 12
	clip := filepath.Join(t.TempDir(), "clip.avi")
	out, err := exec.CommandContext(t.Context(), "ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi",
		"-i", "testsrc=size=160x120:rate=30", "-frames", strconv.Itoa(n), "-pix_fmt", "yuvj444p", "-c:v", "mjpeg", clip).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	f := startFakeRecorder(t)
	p := publishWhenListening(t, client.PublishConfig{URL: f.url(), File: clip, Transport: "tcp", FPS: 5})
	if err := waitDone(t, p, 10*time.Second); err != nil {
		t.Fatalf("publication ended with %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !strings.Contains(string(f.sdp), "a=framerate:30\r\n") {
		t.Errorf("SDP does not give the AVI's rate (30, over -publish-fps 5):\n%s", f.sdp)
	}
	frames := 0
	for i, a := range f.packets {
		pl := a.pkt.Payload
		if len(pl) < 8 {
			t.Fatalf("packet %d: payload of %d bytes", i, len(pl))
		}
		if typ := pl[4] &^ 64; typ != 1 { // RFC 2435 §3.1.3: 1 is 4:2:0 (64: with restart markers)
			t.Fatalf("packet %d: JPEG type %d, want 1 (4:2:0)", i, pl[4])
		}
		if a.pkt.Marker {
			frames++
		}
		if i > 0 && a.pkt.Timestamp != f.packets[i-1].pkt.Timestamp && a.pkt.Timestamp-f.packets[i-1].pkt.Timestamp != 3000 {
			t.Errorf("packet %d: timestamp step %d, want 3000 (90000/30)", i, a.pkt.Timestamp-f.packets[i-1].pkt.Timestamp)
		}
	}
	if frames != n {
		t.Errorf("%d frames sent, want %d", frames, n)
	}
}

// rtsps://: the player's TLS connection code carries the publication,
// media interleaved inside TLS (the default transport there), and a
// viewer gets its frames.
func TestPublishOverTLS(t *testing.T) {
	path, frames := writeClip(t, 64, 48, 5, "25")
	certs := testcert.New(t)
	srv, err := server.New(server.Config{Root: t.TempDir(), TLS: certs.ServerConfig(), Log: enginetest.Logger(t)})
	enginetest.Must(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	enginetest.Must(t, err)
	go srv.ServeTLS(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	url := "rtsps://" + ln.Addr().String() + "/live/cam"
	publishWhenListening(t, client.PublishConfig{URL: url, File: path, Loop: true, TLS: certs.ClientConfig()})

	col := enginetest.NewCollector()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := client.Dial(t.Context(), client.Config{URL: url, TLS: certs.ClientConfig(), Output: col.Output, Log: enginetest.Logger(t)})
		enginetest.Must(t, err)
		if err = c.Setup(); err == nil {
			t.Cleanup(func() { c.Close() })
			enginetest.Must(t, c.Play())
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("the published path never became playable: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	col.WaitFrames(t, 3, 10*time.Second)
	got := col.All()[0]
	for _, f := range frames {
		if enginetest.SamePixels(t, got, f) {
			return
		}
	}
	t.Fatal("the frame received over rtsps:// is none of the file's")
}
