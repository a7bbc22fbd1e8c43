package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"

	"github.com/actorstream/actorstream/internal/rtsp"
)

// fakeRecordServer answers a publisher's requests with 200 (SETUP with
// the server_port of rtp) and keeps what they said.
type fakeRecordServer struct {
	ln   net.Listener
	rtp  *net.UDPConn
	rtcp *net.UDPConn
	done chan struct{} // closed when the publisher's connection is

	mu       sync.Mutex
	methods  []string
	sdp      []byte
	setupURL string
	setupTr  string
}

func newFakeRecordServer(t *testing.T) *fakeRecordServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rtp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	rtcp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeRecordServer{ln: ln, rtp: rtp, rtcp: rtcp, done: make(chan struct{})}
	t.Cleanup(func() { ln.Close(); rtp.Close(); rtcp.Close() })
	go f.serve()
	return f
}

func (f *fakeRecordServer) serve() {
	defer close(f.done)
	nc, err := f.ln.Accept()
	if err != nil {
		return
	}
	defer nc.Close()
	tp := textproto.NewReader(bufio.NewReader(nc))
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		h, err := tp.ReadMIMEHeader()
		if err != nil {
			return
		}
		method, rest, _ := strings.Cut(line, " ")
		url, _, _ := strings.Cut(rest, " ")
		var body []byte
		if n, _ := strconv.Atoi(h.Get("Content-Length")); n > 0 {
			body = make([]byte, n)
			if _, err := io.ReadFull(tp.R, body); err != nil {
				return
			}
		}
		extra := ""
		f.mu.Lock()
		f.methods = append(f.methods, method)
		switch method {
		case "ANNOUNCE":
			f.sdp = body
		case "SETUP":
			f.setupURL, f.setupTr = url, h.Get("Transport")
			extra = fmt.Sprintf("Transport: %s;server_port=%d-%d\r\nSession: 4711;timeout=60\r\n", f.setupTr,
				f.rtp.LocalAddr().(*net.UDPAddr).Port, f.rtcp.LocalAddr().(*net.UDPAddr).Port)
		}
		f.mu.Unlock()
		fmt.Fprintf(nc, "RTSP/1.0 200 OK\r\nCSeq: %s\r\n%s\r\n", h.Get("Cseq"), extra)
	}
}

// TestBenchPublisher: the publisher announces one MJPEG track our
// server's own parser takes, sets up for recording from its port pair,
// and sends the file's frames in order, looping, at the rate: RFC 2435
// packets with consecutive sequence numbers, one SSRC, the marker on a
// frame's last packet, timestamps 90000/fps apart. Every frame received
// is named by its scan data, and its send was logged before it arrived.
func TestBenchPublisher(t *testing.T) {
	jpegs := distinctJPEGs(t, 3)
	path := filepath.Join(t.TempDir(), "clip.mjpeg")
	if err := os.WriteFile(path, append(append(append([]byte{}, jpegs[0]...), jpegs[1]...), jpegs[2]...), 0o644); err != nil {
		t.Fatal(err)
	}
	f := newFakeRecordServer(t)
	url := "rtsp://" + f.ln.Addr().String() + "/live/bench"
	p, err := startBenchPublisher(url, mediaFile{name: "clip", path: path, fps: 50})
	if err != nil {
		t.Fatal(err)
	}

	// Seven frames: more than one pass of the loop.
	type frame struct {
		n     int // packets
		ts    uint32
		hash  uint64
		at    time.Time
		seq0  uint16
		ssrc  uint32
		seqOK bool
	}
	var frames []frame
	cur := frame{hash: fnvOffset, seqOK: true}
	var lastSeq uint16
	first := true
	buf := make([]byte, 2048)
	_ = f.rtp.SetReadDeadline(time.Now().Add(10 * time.Second))
	for len(frames) < 7 {
		n, err := f.rtp.Read(buf)
		if err != nil {
			t.Fatalf("after %d frames: %v", len(frames), err)
		}
		b := buf[:n]
		if n < 20 || b[0]>>6 != 2 || b[1]&0x7f != 26 {
			t.Fatalf("not RTP/JPEG: % x", b[:min(n, 16)])
		}
		seq := binary.BigEndian.Uint16(b[2:])
		if !first && seq != lastSeq+1 {
			cur.seqOK = false
		}
		first, lastSeq = false, seq
		if cur.n == 0 {
			cur.ts, cur.seq0, cur.ssrc = binary.BigEndian.Uint32(b[4:]), seq, binary.BigEndian.Uint32(b[8:])
		}
		_, data, ok := jpegFragment(b[12:])
		if !ok {
			t.Fatal("bad RFC 2435 payload")
		}
		cur.hash = fnvAdd(cur.hash, data)
		cur.n++
		if b[1]&0x80 != 0 {
			cur.at = time.Now()
			frames = append(frames, cur)
			cur = frame{hash: fnvOffset, seqOK: true}
		}
	}
	// A sender report came to the RTCP port: the stream's SSRC, one of
	// its frames' timestamps, sent now, counting what was sent.
	srBuf := make([]byte, 1500)
	_ = f.rtcp.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := f.rtcp.Read(srBuf)
	if err != nil {
		t.Fatalf("no sender report: %v", err)
	}
	pkts, err := rtcp.Unmarshal(srBuf[:n])
	if err != nil || len(pkts) != 1 {
		t.Fatalf("RTCP: %v %v", pkts, err)
	}
	sr, ok := pkts[0].(*rtcp.SenderReport)
	if !ok {
		t.Fatalf("RTCP %T, want a sender report", pkts[0])
	}
	if sr.SSRC != frames[0].ssrc || (sr.RTPTime-frames[0].ts)%1800 != 0 || sr.PacketCount == 0 || sr.OctetCount == 0 {
		t.Errorf("sender report %+v: want SSRC %x, a frame's timestamp, counts", sr, frames[0].ssrc)
	}
	ntpNow := ntpTime(time.Now())
	if d := int64(ntpNow-sr.NTPTime) >> 32; d < 0 || d > 5 {
		t.Errorf("sender report's NTP time %d s from now", d)
	}
	p.stop()
	select { // the TEARDOWN read
	case <-f.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the publisher's connection is still open")
	}

	f.mu.Lock()
	if got := strings.Join(f.methods, " "); !strings.HasPrefix(got, "ANNOUNCE SETUP RECORD") || !strings.HasSuffix(got, "TEARDOWN") {
		t.Errorf("requests %q, want ANNOUNCE SETUP RECORD … TEARDOWN", got)
	}
	a, err := rtsp.ParseAnnounce(f.sdp)
	if err != nil || a.PayloadType != 26 || a.FPS != 50 || a.Control != "trackID=0" {
		t.Errorf("announced %+v, %v; want payload type 26, 50 fps, control trackID=0", a, err)
	}
	if f.setupURL != url+"/trackID=0" || !strings.Contains(f.setupTr, "mode=record") || !strings.Contains(f.setupTr, "client_port=") {
		t.Errorf("SETUP %s Transport: %s", f.setupURL, f.setupTr)
	}
	f.mu.Unlock()

	var arrivals []frameArrival
	for i, fr := range frames {
		id, ok := p.fc.ids[fr.hash]
		if !ok || id != i%3 {
			t.Errorf("frame %d named %d (%v), want %d", i, id, ok, i%3)
		}
		if !fr.seqOK || fr.n < 2 {
			t.Errorf("frame %d: %d packets, consecutive sequence numbers %v", i, fr.n, fr.seqOK)
		}
		if i > 0 {
			if d := fr.ts - frames[i-1].ts; d != 1800 {
				t.Errorf("frame %d: timestamp step %d, want 1800 (90000/50)", i, d)
			}
			if fr.ssrc != frames[0].ssrc {
				t.Errorf("frame %d: SSRC changed", i)
			}
		}
		arrivals = append(arrivals, frameArrival{id, fr.at})
	}
	lat := p.fc.latencies(arrivals)
	if len(lat) != len(frames) {
		t.Fatalf("%d latencies for %d frames", len(lat), len(frames))
	}
	for i, l := range lat {
		if l < 0 || l > time.Second {
			t.Errorf("frame %d: latency %v", i, l)
		}
	}
}

// TestFFmpegPublishArgs: ffmpeg reads the raw file at its rate (the mjpeg
// demuxer assumes 25 fps otherwise), loops it, copies it, over UDP.
func TestFFmpegPublishArgs(t *testing.T) {
	got := strings.Join(ffmpegPublishArgs("rtsp://h/live/bench", mediaFile{path: "/m/v.mjpeg", fps: 30}), " ")
	for _, want := range []string{"-re -stream_loop -1 -f mjpeg -framerate 30 -i /m/v.mjpeg", "-c:v copy -f rtsp -rtsp_transport udp", "rtsp://h/live/bench"} {
		if !strings.Contains(got, want) {
			t.Errorf("ffmpeg %s: no %q", got, want)
		}
	}
}

// TestLiveNames: in live mode ours, gortsplib and before are their live
// servers; the others stay; gst has none.
func TestLiveNames(t *testing.T) {
	got, err := liveNames([]string{"ours", "gortsplib", "raw-gso-mmsg", "ours-file", "before", "ours-live"})
	if err != nil || strings.Join(got, ",") != "ours-live,gortsplib-live,raw-gso-mmsg,ours-file,before-live,ours-live" {
		t.Errorf("liveNames: %v %v", got, err)
	}
	if _, err := liveNames([]string{"gst"}); err == nil {
		t.Error("gst in live mode: no error")
	}
}

// TestLatencyStep: after a live server's ramp, the added latency is
// measured at -latency-at of what it held, only where there is a ramp
// and a latency figure.
func TestLatencyStep(t *testing.T) {
	steps := []record{
		{stepResult: stepResult{Sessions: 100, Frames: 1}},
		{stepResult: stepResult{Sessions: 500, Frames: 1}},
		{stepResult: stepResult{Sessions: 1000, Frames: 1, LateP99: 50}}, // over
	}
	live := &ramp{cfg: stepConfig{clock: &frameClock{}}}
	o := &options{latencyAt: 0.8, ramp: []int{100, 500, 1000}}
	if n := latencyStep(o, live, steps); n != 400 {
		t.Errorf("at 0.8 of 500 held: %d, want 400", n)
	}
	if n := latencyStep(o, &ramp{}, steps); n != 0 {
		t.Errorf("no latency figure (file mode, ffmpeg): %d, want 0", n)
	}
	if n := latencyStep(&options{latencyAt: 0.8}, live, steps); n != 0 {
		t.Errorf("no ramp: %d, want 0", n)
	}
	if n := latencyStep(&options{latencyAt: 0, ramp: o.ramp}, live, steps); n != 0 {
		t.Errorf("-latency-at 0: %d, want 0", n)
	}
	if n := latencyStep(o, live, steps[2:]); n != 0 {
		t.Errorf("nothing held: %d, want 0", n)
	}
}
