package server

import (
	"bytes"
	"net"
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
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
)

// The live fan-out (issue 13): every RTSP viewer of a live path gets the
// publisher's RFC 2435 payloads byte for byte behind RTP headers of its
// own (SSRC, sequence, timestamps), re-packetized only when a payload is
// bigger than the server's MTU; the UDP viewers are stepped by the
// Scheduler, one feed subscription per shard whatever their number, and
// the same RTP goes out when the pipelines run on goroutines.

const fanoutFrames = 8

// fanoutFrame is frame i as a publisher would hand it over: the JPEG and
// its RFC 2435 payloads from a packetizer with the given MTU.
func fanoutFrame(t *testing.T, i, mtu int) *pipeline.Frame {
	// Stamped at 50 frames/s, as a publisher's RTP clock would: the
	// viewers' timestamps follow the publisher's clock, not arrival.
	f := &pipeline.Frame{Data: enginetest.NoiseJPEG(t, 160, 120, i+1), RTPTime: uint32(i * 90000 / 50)}
	var j rtpjpeg.JPEG
	enginetest.Must(t, rtpjpeg.ParseJPEG(f.Data, &j))
	p := rtpjpeg.NewPacketizer(1, 1, mtu)
	buf := make([]byte, mtu)
	p.Begin(&j, 0)
	for n := p.Next(buf); n > 0; n = p.Next(buf) {
		f.Payloads = append(f.Payloads, buf[12:n]...)
		f.PayloadEnds = append(f.PayloadEnds, len(f.Payloads))
	}
	return f
}

// payloadsOf splits a frame's payloads.
func payloadsOf(f *pipeline.Frame) [][]byte {
	var out [][]byte
	start := 0
	for _, end := range f.PayloadEnds {
		out = append(out, f.Payloads[start:end])
		start = end
	}
	return out
}

// fanoutViewer is one UDP viewer of the path: its socket and the SSRC
// its SETUP announced.
type fanoutViewer struct {
	conn *net.UDPConn
	ssrc uint32
}

func playLiveUDP(t *testing.T, ts *testServer, path string) fanoutViewer {
	c := dial(t, ts.addr)
	rtpConn, _ := udpPair(t)
	// Room for every frame the test publishes: viewers are read one
	// after the other, and loopback charges each datagram's buffer
	// several times its size.
	_ = rtpConn.SetReadBuffer(4 << 20)
	port := rtpConn.LocalAddr().(*net.UDPAddr).Port
	r := c.do("SETUP", ts.url(path+"/trackID=0"), "Transport: RTP/AVP;unicast;client_port="+strconv.Itoa(port)+"-"+strconv.Itoa(port+1))
	trs, err := rtsp.ParseTransports(r.Header.Get("Transport"))
	if r.StatusCode != 200 || err != nil || len(trs) != 1 {
		t.Fatalf("SETUP: %d %q", r.StatusCode, r.Header.Get("Transport"))
	}
	sess, err := rtsp.ParseSession(r.Header.Get("Session"))
	enginetest.Must(t, err)
	if r := c.do("PLAY", ts.url(path), "Session: "+sess.ID); r.StatusCode != 200 {
		t.Fatalf("PLAY: %d", r.StatusCode)
	}
	return fanoutViewer{conn: rtpConn, ssrc: trs[0].SSRC}
}

// readFrames reads n frames (up to each marked packet) from v.
func (v fanoutViewer) readFrames(t *testing.T, n int) []*rtp.Packet {
	var pkts []*rtp.Packet
	buf := make([]byte, 65536)
	_ = v.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for frames := 0; frames < n; {
		k, err := v.conn.Read(buf)
		if err != nil {
			t.Fatalf("after %d packets (%d frames): %v", len(pkts), frames, err)
		}
		p := &rtp.Packet{}
		enginetest.Must(t, p.Unmarshal(bytes.Clone(buf[:k])))
		pkts = append(pkts, p)
		if p.Marker {
			frames++
		}
	}
	return pkts
}

// fanout publishes the frames to viewers UDP viewers of a live path (and
// one over TCP) of a server whose pipelines the factory builds, and
// returns what each UDP viewer received, with the server's log.
func fanout(t *testing.T, factory PipelineFactory, viewers int, frames []*pipeline.Frame) ([]fanoutViewer, [][]*rtp.Packet, string, *Live) {
	var logs enginetest.SyncBuffer
	m := metrics.New()
	ts := startServer(t, Config{Metrics: m, Pipeline: factory, Log: hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: &logs})})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	live := NewLive(50)
	enginetest.Must(t, ts.srv.Publish("cams/fan", live))
	vs := make([]fanoutViewer, viewers)
	for i := range vs {
		vs[i] = playLiveUDP(t, ts, "cams/fan")
	}
	// One viewer over TCP, on goroutines beside the stepped ones.
	tcp := dial(t, ts.addr)
	r := tcp.do("SETUP", ts.url("cams/fan/trackID=0"), "Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
	s, _ := rtsp.ParseSession(r.Header.Get("Session"))
	if r := tcp.do("PLAY", ts.url("cams/fan"), "Session: "+s.ID); r.StatusCode != 200 {
		t.Fatalf("TCP PLAY: %d", r.StatusCode)
	}
	eventually(t, 5*time.Second, "the viewers did not all join the feed", func() bool { return live.feed.Streams() == viewers+1 })
	go func() {
		for _, f := range frames {
			if err := live.publishFrame(f); err != nil {
				t.Errorf("publishFrame: %v", err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	got := make([][]*rtp.Packet, viewers)
	for i, v := range vs {
		got[i] = v.readFrames(t, len(frames))
	}
	if v := counterValue(t, m, "actorstream_pipeline_goroutine_fallbacks_total"); v != 0 {
		t.Errorf("pipeline_goroutine_fallbacks_total = %v, want 0", v)
	}
	return vs, got, logs.String(), live
}

// checkViewer checks one viewer's packets: its own SSRC, contiguous
// sequence numbers, a timestamp per frame 90000/50 apart, the marker on
// each frame's last packet, and the payloads want[frame].
func checkViewer(t *testing.T, name string, v fanoutViewer, pkts []*rtp.Packet, want [][][]byte) {
	t.Helper()
	k := 0
	for fi, payloads := range want {
		for pi, payload := range payloads {
			if k >= len(pkts) {
				t.Fatalf("%s: %d packets, frame %d wants more", name, len(pkts), fi)
			}
			p := pkts[k]
			switch {
			case p.SSRC != v.ssrc:
				t.Fatalf("%s: SSRC %#x, SETUP said %#x", name, p.SSRC, v.ssrc)
			case p.SequenceNumber != pkts[0].SequenceNumber+uint16(k):
				t.Fatalf("%s: packet %d has sequence %d after %d", name, k, p.SequenceNumber, pkts[0].SequenceNumber)
			case p.Timestamp != pkts[0].Timestamp+uint32(fi*90000/50):
				t.Fatalf("%s: frame %d has timestamp %d, first %d", name, fi, p.Timestamp, pkts[0].Timestamp)
			case p.Marker != (pi == len(payloads)-1):
				t.Fatalf("%s: frame %d packet %d marker %v", name, fi, pi, p.Marker)
			case p.PayloadType != 26:
				t.Fatalf("%s: payload type %d", name, p.PayloadType)
			case !bytes.Equal(p.Payload, payload):
				t.Fatalf("%s: frame %d packet %d: payload differs from the publisher's", name, fi, pi)
			}
			k++
		}
	}
}

func TestLiveFanoutForwardsPayloads(t *testing.T) {
	// Payloads of a 1000-byte MTU fit the server's 1400: forwarded as
	// they are (re-packetized, they would be cut at 1400).
	frames := make([]*pipeline.Frame, fanoutFrames)
	want := make([][][]byte, fanoutFrames)
	for i := range frames {
		frames[i] = fanoutFrame(t, i, 1000)
		want[i] = payloadsOf(frames[i])
		if len(want[i]) < 3 {
			t.Fatalf("frame %d is %d packets; the test wants 3 or more", i, len(want[i]))
		}
	}
	const viewers = 6
	vs, got, logs, live := fanout(t, nil, viewers, frames)
	for i := range vs {
		checkViewer(t, "viewer "+strconv.Itoa(i), vs[i], got[i], want)
	}
	if !strings.Contains(logs, `stages=["feedsource", "udpsink"]`) {
		t.Errorf("the UDP viewers' pipelines were not stepped by the scheduler; log:\n%s", logs)
	}
	// One subscription per shard that has viewers, and one for the TCP
	// viewer on goroutines: never one per viewer.
	if n := live.feed.Subscribers(); n > 3 || n >= viewers {
		t.Errorf("%d feed subscriptions for %d UDP viewers and one TCP viewer", n, viewers)
	}

	// The same RTP on goroutines.
	onGoroutines := func(pc *PlayContext) *pipeline.Pipeline {
		p := DefaultPipeline(pc)
		enginetest.Must(t, p.RunOn(pipeline.Goroutines))
		return p
	}
	vs, got, _, _ = fanout(t, onGoroutines, 2, frames)
	for i := range vs {
		checkViewer(t, "goroutines viewer "+strconv.Itoa(i), vs[i], got[i], want)
	}
}

func TestLiveFanoutRepacketizesAboveTheMTU(t *testing.T) {
	// Payloads of a 3000-byte MTU do not fit 1400: the frame is
	// packetized again, once, as the server would packetize the JPEG.
	frames := make([]*pipeline.Frame, 3)
	want := make([][][]byte, len(frames))
	for i := range frames {
		frames[i] = fanoutFrame(t, i, 3000)
		want[i] = payloadsOf(fanoutFrame(t, i, 1400))
	}
	vs, got, _, _ := fanout(t, nil, 2, frames)
	for i := range vs {
		checkViewer(t, "viewer "+strconv.Itoa(i), vs[i], got[i], want)
		for _, p := range got[i] {
			if n := len(p.Payload) + 12; n > 1400 {
				t.Fatalf("a packet of %d bytes, over the MTU", n)
			}
		}
	}
}

// TestLiveLabClientJoins: the original lab client, asking for a live
// path's name, joins it like any viewer: it gets the frames published
// from then on, whole JPEGs as the lab expects, beside an RTSP viewer
// stepped by the Scheduler.
func TestLiveLabClientJoins(t *testing.T) {
	ts := startServer(t, Config{})
	live := NewLive(25)
	enginetest.Must(t, ts.srv.Publish("cams/lab", live))
	rfc := playLiveUDP(t, ts, "cams/lab")
	lab := dialLab(t, ts.addr, "cams/lab")
	lab.request("SETUP")
	lab.request("PLAY")
	eventually(t, 5*time.Second, "the viewers did not join", func() bool { return live.viewers() == 2 })
	frames := make([][]byte, 4)
	for i := range frames {
		frames[i] = enginetest.JPEG(t, 64, 48, i)
	}
	go func() {
		for _, f := range frames {
			if err := live.Publish(f); err != nil {
				t.Errorf("Publish: %v", err)
			}
			time.Sleep(40 * time.Millisecond)
		}
	}()
	_, jpegs := lab.frames(len(frames))
	for i, j := range jpegs {
		if !enginetest.SamePixels(t, j, frames[i]) {
			t.Fatalf("lab client's frame %d is not the %dth published", i, i)
		}
	}
	if pkts := rfc.readFrames(t, len(frames)); len(pkts) < len(frames) {
		t.Fatalf("the RTSP viewer got %d packets", len(pkts))
	}
	lab.request("TEARDOWN")
}
