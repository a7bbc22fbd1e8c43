package client_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/internal/labserver"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
	"github.com/actorstream/actorstream/pipeline/stages/receive"
	"github.com/actorstream/actorstream/pipeline/stages/send"
)

func TestClientPlaysOurServer(t *testing.T) {
	for _, transport := range []string{actors.TransportUDP, actors.TransportTCP} {
		t.Run(transport, func(t *testing.T) {
			ts := startServer(t, server.Config{FPS: 50})
			source := enginetest.FileFrames(t, filepath.Join(ts.dir, "clip.mjpeg"))
			col := enginetest.NewCollector()
			c := enginetest.DialClient(t, client.Config{URL: ts.url("clip.mjpeg"), Transport: transport, Output: col.Output})
			enginetest.Must(t, c.Setup())
			if info := c.Info(); info.FPS != 50 || info.Duration != time.Second || info.PayloadType != 26 {
				t.Fatalf("described %+v", info)
			}
			enginetest.Must(t, c.Play())
			col.WaitFrames(t, 10, 5*time.Second)
			enginetest.Must(t, c.Pause())
			paused := col.Count()
			enginetest.Must(t, c.Play())
			col.WaitFrames(t, paused+5, 5*time.Second)
			enginetest.Must(t, c.Teardown())
			<-c.Done()
			if err := c.Err(); err != nil {
				t.Fatalf("session ended with %v", err)
			}

			got := col.All()
			for i, f := range got {
				if i >= len(source) || !enginetest.SamePixels(t, f, source[i]) {
					t.Fatalf("frame %d of %d is not pixel-identical to source frame %d", i, len(got), i)
				}
			}
			st := c.Stats()
			if st.Transport != transport || st.Dialect != actors.DialectRFC || st.State != actors.Init || st.Duration != time.Second ||
				st.Frames != uint64(len(got)) || st.Receiver.PacketsLost != 0 || st.FramesDropped != 0 || st.TimeToFirstFrameMs <= 0 ||
				st.URL != ts.url("clip.mjpeg") {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// TestClientFallsBackToTCP serves UDP sessions into a void: the client
// must notice within its UDP timeout and switch to interleaved TCP.
func TestClientFallsBackToTCP(t *testing.T) {
	ts := startServer(t, server.Config{FPS: 50, Loop: true, Pipeline: func(pc *server.PlayContext) *pipeline.Pipeline {
		if pc.Interleaved {
			return server.DefaultPipeline(pc)
		}
		p := pipeline.New()
		paced := pipeline.Then(p, "pacer", &send.Pacer{Start: pc.Start, StartPTS: pipeline.PTS(pc.StartIndex, pc.Media.FPS)},
			pc.Packets(p, pc.Frames(p)))
		pipeline.To(p, "blackhole", pipeline.SinkFunc[*pipeline.Batch](func(ctx context.Context, in <-chan *pipeline.Batch) error {
			for b := range in {
				b.Release()
			}
			return nil
		}), paced)
		return p
	}})
	col := enginetest.NewCollector()
	c := enginetest.DialClient(t, client.Config{URL: ts.url("clip.mjpeg"), Output: col.Output})
	enginetest.Must(t, c.Setup())
	enginetest.Must(t, c.Play())
	col.WaitFrames(t, 5, 10*time.Second)
	if st := c.Stats(); st.Transport != actors.TransportTCP {
		t.Fatalf("transport %q after fallback", st.Transport)
	}
}

func TestClientReportsServerErrors(t *testing.T) {
	ts := startServer(t, server.Config{})
	c := enginetest.DialClient(t, client.Config{URL: ts.url("nope.mjpeg")})
	err := c.Setup()
	var se *actors.ServerError
	if !errors.As(err, &se) || se.Code != 404 || err.Error() != "404 Not Found: no media 'nope.mjpeg' on server" {
		t.Fatalf("Setup error %v", err)
	}
	if err := c.Play(); err == nil || !strings.Contains(err.Error(), "Setup") {
		t.Fatalf("Play before setup: %v", err)
	}
}

// TestClientLabServer plays from a server speaking the original lab's
// dialect: auto mode gets no answer to OPTIONS and switches.
func TestClientLabServer(t *testing.T) {
	var frames [][]byte
	for i := range 30 {
		frames = append(frames, enginetest.JPEG(t, 64, 48, i))
	}
	lab := labserver.Start(t, frames, 10*time.Millisecond)
	col := enginetest.NewCollector()
	c := enginetest.DialClient(t, client.Config{URL: "rtsp://" + lab.Addr() + "/movie.Mjpeg", Dialect: actors.DialectAuto, Output: col.Output})
	enginetest.Must(t, c.Setup())
	enginetest.Must(t, c.Play())
	col.WaitFrames(t, 10, 5*time.Second)
	enginetest.Must(t, c.Pause())
	enginetest.Must(t, c.Play())
	col.WaitFrames(t, 20, 5*time.Second)
	enginetest.Must(t, c.Teardown())
	for i, f := range col.All() {
		if !bytes.Equal(f, frames[i]) {
			t.Fatalf("frame %d differs from what the lab server sent", i)
		}
	}
	if got := strings.Join(lab.Methods(), " "); got != "OPTIONS SETUP PLAY PAUSE PLAY TEARDOWN" {
		t.Fatalf("lab server saw %q", got)
	}
	if st := c.Stats(); st.Dialect != actors.DialectLab || st.Receiver.PacketsLost != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestRecordAndReplay records a stream, serves the recording with our
// server and plays it back: the same frames, byte for byte.
func TestRecordAndReplay(t *testing.T) {
	ts := startServer(t, server.Config{FPS: 50})
	var rec bytes.Buffer
	c := enginetest.DialClient(t, client.Config{URL: ts.url("clip.mjpeg"), Output: client.Recording(&rec, client.RecordRaw, nil), MaxFrames: 20})
	enginetest.Must(t, c.Setup())
	enginetest.Must(t, c.Play())
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("no teardown after 20 frames")
	}
	c.Close() // stops the pipeline, so the recording is complete
	recorded := rec.Bytes()
	ix, err := mjpeg.BuildIndex(bytes.NewReader(recorded))
	enginetest.Must(t, err)
	if ix.Len() < 20 {
		t.Fatalf("recording has %d frames, want ≥ 20", ix.Len())
	}
	enginetest.Must(t, os.WriteFile(filepath.Join(ts.dir, "rec.mjpeg"), recorded, 0o644))

	col := enginetest.NewCollector()
	c2 := enginetest.DialClient(t, client.Config{URL: ts.url("rec.mjpeg"), Output: col.Output})
	enginetest.Must(t, c2.Setup())
	enginetest.Must(t, c2.Play())
	select {
	case <-c2.Done(): // the server's BYE at the end of the media ends it
	case <-time.After(10 * time.Second):
		t.Fatal("replay did not end")
	}
	got := col.All()
	if len(got) != ix.Len() {
		t.Fatalf("replayed %d frames, recorded %d", len(got), ix.Len())
	}
	for i := range got {
		want, err := ix.ReadFrame(bytes.NewReader(recorded), i, nil)
		enginetest.Must(t, err)
		if !bytes.Equal(got[i], want) {
			t.Fatalf("replayed frame %d differs from the recording", i)
		}
	}
}

// TestClientLabStatistics: the lab server's RTP timestamps are wall-clock
// seconds, not a media clock; the client's jitter and position go by its
// frame numbers, one every 50 ms, instead: jitter near 0 on loopback, and
// frame n at (n − 1) × 50 ms.
func TestClientLabStatistics(t *testing.T) {
	var frames [][]byte
	for i := range 100 {
		frames = append(frames, enginetest.JPEG(t, 64, 48, i))
	}
	lab := labserver.Start(t, frames, receive.LabPeriod)
	col := enginetest.NewCollector()
	c := enginetest.DialClient(t, client.Config{URL: "rtsp://" + lab.Addr() + "/movie.Mjpeg", Dialect: actors.DialectLab, Output: col.Output})
	enginetest.Must(t, c.Setup())
	enginetest.Must(t, c.Play())
	col.WaitFrames(t, 5, 5*time.Second)
	first := c.Stats()
	time.Sleep(time.Second)
	enginetest.Must(t, c.Pause())
	time.Sleep(200 * time.Millisecond) // the last frame in flight lands
	st := c.Stats()
	enginetest.Must(t, c.Teardown())

	if st.Receiver.JitterMS > 10 {
		t.Errorf("jitter %.1f ms on loopback, want near 0", st.Receiver.JitterMS)
	}
	if want := time.Duration(st.Receiver.HighestSeq-1) * receive.LabPeriod; st.Position != want {
		t.Errorf("position %s after frame %d, want %s", st.Position, st.Receiver.HighestSeq, want)
	}
	// The lab's rate: 20 frames, a second of media, a second later.
	if advanced := st.Position - first.Position; advanced < 600*time.Millisecond || advanced > 1600*time.Millisecond {
		t.Errorf("position advanced %s (from %s) over about a second, want about 1 s", advanced, first.Position)
	}
}

// TestClientFailedSeekPlaysOn: seeking past the end of the media gets the
// server's 457, and the client keeps playing where it was, with no packet
// missing.
func TestClientFailedSeekPlaysOn(t *testing.T) {
	ts := startServer(t, server.Config{FPS: 25})
	col := enginetest.NewCollector()
	c := enginetest.DialClient(t, client.Config{URL: ts.url("clip.mjpeg"), Transport: actors.TransportUDP, Output: col.Output})
	enginetest.Must(t, c.Setup())
	enginetest.Must(t, c.Play())
	col.WaitFrames(t, 5, 5*time.Second)
	err := c.Seek(999 * time.Second)
	if err == nil || !strings.Contains(err.Error(), "457") {
		t.Fatalf("seek to 999 s: %v, want the server's 457", err)
	}
	if st := c.Stats(); st.State != actors.Playing {
		t.Fatalf("state after the refused seek: %s, want playing", st.State)
	}
	before := c.Stats().Position
	n := len(col.All())
	col.WaitFrames(t, n+5, 5*time.Second)
	st := c.Stats()
	if st.Position <= before || st.Receiver.PacketsLost != 0 || st.FramesDropped != 0 {
		t.Fatalf("after the refused seek: position %s (was %s), %d packets lost, %d frames dropped",
			st.Position, before, st.Receiver.PacketsLost, st.FramesDropped)
	}
}
