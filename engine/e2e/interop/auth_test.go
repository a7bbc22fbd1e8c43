package interop

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/auth"
	"github.com/actorstream/actorstream/internal/testcert"
)

// TestAuthPeers: ffmpeg and GStreamer play a protected stream with the
// right credentials, over RTSP and RTSPS, and are refused with wrong ones.
func TestAuthPeers(t *testing.T) {
	file := filepath.Join(t.TempDir(), "users")
	if err := auth.AddUser(file, "viewer", "s3cret", "actorstream", nil); err != nil {
		t.Fatal(err)
	}
	users, err := auth.LoadUsers(file)
	if err != nil {
		t.Fatal(err)
	}
	pair := testcert.New(t)
	srv, err := server.New(server.Config{
		Root: mediaDir, FPS: fps, MTU: mtu, TLS: pair.ServerConfig(), Log: hclog.NewNullLogger(),
		Auth: &auth.Authenticator{Users: users, Realm: "actorstream"},
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	go srv.ServeTLS(tln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	const name = "vga420.mjpeg"
	hosts := map[string]string{"rtsp": ln.Addr().String(), "rtsps": tln.Addr().String()}

	for _, scheme := range []string{"rtsp", "rtsps"} {
		for _, pw := range []string{"s3cret", "wrong"} {
			good := pw == "s3cret"
			t.Run("ffmpeg/"+scheme+"/"+pw, func(t *testing.T) {
				ffmpeg := needPeer(t, "ffmpeg")
				url := scheme + "://viewer:" + pw + "@" + hosts[scheme] + "/" + name
				out, stderr, err := runCmd(context.Background(), 30*time.Second, nil, ffmpeg,
					"-nostdin", "-v", "error", "-rtsp_transport", "tcp", "-i", url, "-t", "1", "-f", "framemd5", "-")
				frames := len(parseFramemd5(out))
				if good && (err != nil || frames < minDecoded(fps)) {
					t.Fatalf("right password: %d frames, %v\n%s", frames, err, firstLines(stderr, 5))
				}
				if !good && (err == nil || frames > 0 || !strings.Contains(string(stderr), "401")) {
					t.Fatalf("wrong password: %d frames, err %v, stderr %q", frames, err, firstLines(stderr, 5))
				}
				record("ffmpeg", scheme+" auth", name, map[bool]string{true: strconv.Itoa(frames) + " frames", false: "refused 401"}[good])
			})
			t.Run("gstreamer/"+scheme+"/"+pw, func(t *testing.T) {
				gst := needPeer(t, "gst-launch-1.0")
				url := scheme + "://" + hosts[scheme] + "/" + name
				out, stderr, err := runCmd(context.Background(), 30*time.Second, nil, gst, "-v",
					"rtspsrc", "location="+url, "user-id=viewer", "user-pw="+pw, "protocols=tcp", "tls-validation-flags=0",
					"teardown-timeout=2000000000", "!", "rtpjpegdepay", "!", "jpegdec", "!",
					"fakesink", "name=sink", "sync=false", "silent=false", "num-buffers=20")
				n := len(gstChain.FindAllIndex(out, -1))
				complete := n == 20 && strings.Contains(string(out), "Got EOS from element")
				var probs []string
				for _, l := range strings.Split(string(out)+"\n"+string(stderr), "\n") {
					if l = strings.TrimSpace(l); gstProblem.MatchString(l) && !gstTeardownRace.MatchString(l) {
						probs = append(probs, l)
					}
				}
				// rtspsrc 1.22 may trip over its own PAUSE/TEARDOWN after EOS
				// (see TestGStreamer): all buffers + EOS + only those lines is a pass.
				if good && (!complete || len(probs) > 0) {
					t.Fatalf("right password: %d/20 buffers, eos %v, %v\n%s", n, complete, err, firstLines([]byte(strings.Join(probs, "\n")), 10))
				}
				if !good && (err == nil || n > 0) {
					t.Fatalf("wrong password accepted: %d buffers\n%s", n, firstLines(stderr, 10))
				}
				record("gstreamer", scheme+" auth", name, map[bool]string{true: "20/20 buffers", false: "refused"}[good])
			})
		}
	}
	_ = os.Remove(file)
}
