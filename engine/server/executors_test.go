package server

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/pion/rtp"

	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/internal/metrics"
	"github.com/actorstream/actorstream/internal/rtsp"
	"github.com/actorstream/actorstream/pipeline"
)

// One file served the ways a server can serve it — from disk
// (FileReader → Framer → Conformer → Packetizer → Pacer → UDPSink, on
// goroutines), from memory on goroutines (PacketSource → Pacer → UDPSink),
// from memory stepped by the Scheduler, and from memory with a channel
// stage of a custom factory in the way — must put the same RTP on the
// wire: the same packets, byte for byte once the session's random SSRC,
// first sequence number and first timestamp are taken out, and no packet
// before its frame's time less pipeline.EarlySlack.

const (
	waysFrames = 16
	waysFPS    = 50 // 20 ms a frame
)

// waysMedia writes a raw MJPEG file of noise frames, several packets
// each, into a directory of its own.
func waysMedia(t *testing.T) string {
	dir := t.TempDir()
	var raw bytes.Buffer
	for i := range waysFrames {
		raw.Write(enginetest.NoiseJPEG(t, 160, 96, i+1))
	}
	enginetest.Must(t, os.WriteFile(filepath.Join(dir, "noise.mjpeg"), raw.Bytes(), 0o644))
	return dir
}

// way is one way of serving the file.
type way struct {
	name     string
	fromDisk bool            // no file in memory (as for files over MaxInMemory)
	factory  PipelineFactory // nil: DefaultPipeline
	// What the server must say about how it ran the pipeline: a debug
	// line holding both strings, and the fallback counter.
	wantLog       [2]string
	wantFallbacks float64
}

// captured is one session's RTP, as received on the client's port.
type captured struct {
	pkts     []*rtp.Packet
	received []time.Duration // since just before PLAY was sent
	ssrc     uint32          // from SETUP
}

// serveOneWay plays the file once, the given way, to a UDP client port,
// and returns the RTP it received and the server's log.
func serveOneWay(t *testing.T, dir string, w way) (captured, string) {
	var logs enginetest.SyncBuffer
	m := metrics.New()
	cfg := Config{Root: dir, FPS: waysFPS, Metrics: m, Pipeline: w.factory,
		Log: hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: &logs})}
	srv, err := New(cfg)
	enginetest.Must(t, err)
	if w.fromDisk {
		srv.media.inMemory = 0
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	enginetest.Must(t, err)
	go srv.Serve(ln)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}()

	c := dial(t, ln.Addr().String())
	url := "rtsp://" + ln.Addr().String() + "/noise.mjpeg"
	rtpConn, _ := udpPair(t)
	// Room for a whole stream's worth of datagrams: on a loaded machine
	// this reader can fall behind, and a datagram the kernel drops for
	// want of room would be a difference between the ways that is not
	// theirs.
	_ = rtpConn.SetReadBuffer(4 << 20)
	port := rtpConn.LocalAddr().(*net.UDPAddr).Port
	r := c.do("SETUP", url+"/trackID=0", "Transport: RTP/AVP;unicast;client_port="+strconv.Itoa(port)+"-"+strconv.Itoa(port+1))
	trs, err := rtsp.ParseTransports(r.Header.Get("Transport"))
	if r.StatusCode != 200 || err != nil || len(trs) != 1 {
		t.Fatalf("SETUP: %d %q", r.StatusCode, r.Header.Get("Transport"))
	}
	sess, err := rtsp.ParseSession(r.Header.Get("Session"))
	enginetest.Must(t, err)

	got := captured{ssrc: trs[0].SSRC}
	start := time.Now()
	if r := c.do("PLAY", url+"/", "Session: "+sess.ID, "Range: npt=0-"); r.StatusCode != 200 {
		t.Fatalf("PLAY: %d", r.StatusCode)
	}
	// Every frame ends with a marked packet: read until the last one.
	buf := make([]byte, 65536)
	_ = rtpConn.SetReadDeadline(time.Now().Add(20 * time.Second))
	for frames := 0; frames < waysFrames; {
		n, err := rtpConn.Read(buf)
		if err != nil {
			t.Fatalf("%s: after %d packets (%d frames): %v", w.name, len(got.pkts), frames, err)
		}
		at := time.Since(start)
		p := &rtp.Packet{}
		enginetest.Must(t, p.Unmarshal(bytes.Clone(buf[:n])))
		got.pkts, got.received = append(got.pkts, p), append(got.received, at)
		if p.Marker {
			frames++
		}
	}
	c.do("TEARDOWN", url+"/", "Session: "+sess.ID)

	if v := counterValue(t, m, "actorstream_pipeline_goroutine_fallbacks_total"); v != w.wantFallbacks {
		t.Errorf("%s: pipeline_goroutine_fallbacks_total = %v, want %v", w.name, v, w.wantFallbacks)
	}
	return got, logs.String()
}

func counterValue(t *testing.T, m *metrics.Metrics, name string) float64 {
	t.Helper()
	families, err := m.Registry().Gather()
	enginetest.Must(t, err)
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no counter %s", name)
	return 0
}

// normalised is a packet with the session's random starting points taken
// out: what must be the same whichever way the file was served.
type normalised struct {
	seq     uint16 // since the first packet
	ts      uint32 // since the first packet
	marker  bool
	pt      uint8
	payload []byte
}

func normalise(t *testing.T, name string, c captured) []normalised {
	out := make([]normalised, len(c.pkts))
	first := c.pkts[0]
	for i, p := range c.pkts {
		if p.SSRC != c.ssrc || p.Version != 2 || p.Padding || p.Extension || len(p.CSRC) != 0 {
			t.Fatalf("%s: packet %d: SSRC %#x (SETUP said %#x), version %d, padding %v, extension %v", name, i, p.SSRC, c.ssrc, p.Version, p.Padding, p.Extension)
		}
		out[i] = normalised{seq: p.SequenceNumber - first.SequenceNumber, ts: p.Timestamp - first.Timestamp,
			marker: p.Marker, pt: p.PayloadType, payload: p.Payload}
	}
	return out
}

func TestOneFileThreeWaysSameRTP(t *testing.T) {
	dir := waysMedia(t)
	onGoroutines := func(pc *PlayContext) *pipeline.Pipeline {
		p := DefaultPipeline(pc)
		enginetest.Must(t, p.RunOn(pipeline.Goroutines))
		return p
	}
	withChannelStage := func(pc *PlayContext) *pipeline.Pipeline {
		p := pipeline.New()
		passed := pipeline.Then(p, "passthrough", pipeline.StageFunc[*pipeline.Batch, *pipeline.Batch](
			func(ctx context.Context, in <-chan *pipeline.Batch, out chan<- *pipeline.Batch) error {
				for {
					b, ok := pipeline.Recv(ctx, in)
					if !ok {
						return ctx.Err()
					}
					if !pipeline.Send(ctx, out, b) {
						b.Release()
						return ctx.Err()
					}
				}
			}), pc.SharedPackets(p))
		pc.Send(p, passed)
		return p
	}
	ways := []way{
		{name: "disk", fromDisk: true, wantLog: [2]string{"pipeline runs on goroutines: the scheduler cannot step it:", " stage=packetizer "}, wantFallbacks: 1},
		{name: "memory on goroutines", factory: onGoroutines},
		{name: "memory on the scheduler", wantLog: [2]string{"pipeline stepped by the scheduler:", ` stages=["packetsource", "pacer", "udpsink"]`}},
		{name: "memory with a channel stage", factory: withChannelStage, wantLog: [2]string{"pipeline runs on goroutines: the scheduler cannot step it:", " stage=passthrough "}, wantFallbacks: 1},
	}
	var reference []normalised
	for _, w := range ways {
		c, logs := serveOneWay(t, dir, w)
		if w.wantLog[0] != "" && !slices.ContainsFunc(strings.Split(logs, "\n"), func(l string) bool {
			return strings.Contains(l, w.wantLog[0]) && strings.Contains(l, w.wantLog[1])
		}) {
			t.Errorf("%s: no log line says %q with %q:\n%s", w.name, w.wantLog[0], w.wantLog[1], logs)
		}
		if w.wantLog[0] == "" && (strings.Contains(logs, "scheduler cannot step") || strings.Contains(logs, "stepped by the scheduler")) {
			t.Errorf("%s: the pipeline was offered to the scheduler:\n%s", w.name, logs)
		}
		// Never early: PLAY's pipeline starts after the request went, so
		// frame i is due at least PTS(i) after it, and no executor sends
		// more than EarlySlack before a frame is due.
		frame := 0
		for i, p := range c.pkts {
			if floor := pipeline.PTS(frame, waysFPS) - pipeline.EarlySlack; c.received[i] < floor {
				t.Errorf("%s: packet %d of frame %d received %v after PLAY, before its time less EarlySlack (%v)", w.name, i, frame, c.received[i], floor)
			}
			if p.Marker {
				frame++
			}
		}
		got := normalise(t, w.name, c)
		if reference == nil {
			reference = got
			if n := len(got); n < 3*waysFrames {
				t.Fatalf("%d packets for %d frames: the test wants frames of several packets", n, waysFrames)
			}
			continue
		}
		if len(got) != len(reference) {
			t.Fatalf("%s: %d packets, %s: %d", w.name, len(got), ways[0].name, len(reference))
		}
		for i := range got {
			g, r := got[i], reference[i]
			if g.seq != r.seq || g.ts != r.ts || g.marker != r.marker || g.pt != r.pt || !bytes.Equal(g.payload, r.payload) {
				t.Fatalf("%s: packet %d (seq +%d ts +%d marker %v pt %d, %d bytes) differs from %s's (seq +%d ts +%d marker %v pt %d, %d bytes)",
					w.name, i, g.seq, g.ts, g.marker, g.pt, len(g.payload), ways[0].name, r.seq, r.ts, r.marker, r.pt, len(r.payload))
			}
		}
	}
	// The stream itself: consecutive sequence numbers, a timestamp per
	// frame 90000/FPS apart.
	frame := 0
	for i, p := range reference {
		if p.seq != uint16(i) || p.ts != uint32(frame*90000/waysFPS) || p.pt != 26 {
			t.Fatalf("packet %d: seq +%d ts +%d pt %d; want seq +%d ts +%d pt 26", i, p.seq, p.ts, p.pt, i, frame*90000/waysFPS)
		}
		if p.marker {
			frame++
		}
	}
}
