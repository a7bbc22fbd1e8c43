package client_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"go.uber.org/goleak"

	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/internal/rtsp"
	"github.com/actorstream/actorstream/internal/udpport"
)

// fakeRecorder is an RTSP server in record mode that keeps what a
// publisher sends it: the ANNOUNCE's SDP, every RTP packet with its
// arrival time, the RTCP, over UDP or interleaved TCP; it answers each
// RTCP Sender Report with a Receiver Report. refuse, when set, answers a
// method with a status instead; closeAfterRecord drops the connection
// once media flows.
type fakeRecorder struct {
	t                *testing.T
	ln               net.Listener
	rtpConn          *net.UDPConn
	rtcpConn         *net.UDPConn
	refuse           map[string]string // method → "455 Path Busy", or "-" for no answer
	closeAfterRecord bool
	wg               sync.WaitGroup

	mu       sync.Mutex
	methods  []string
	sdp      []byte
	packets  []arrival
	srs      int
	rrSent   int
	teardown bool
	rtcpDest netip.AddrPort // the publisher's RTCP port (UDP)
}

type arrival struct {
	pkt rtp.Packet
	at  time.Time
}

func startFakeRecorder(t *testing.T) *fakeRecorder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	enginetest.Must(t, err)
	f := &fakeRecorder{t: t, ln: ln}
	f.rtpConn, f.rtcpConn, err = udpport.ListenPair(netip.MustParseAddr("127.0.0.1"))
	enginetest.Must(t, err)
	t.Cleanup(f.stop)
	f.wg.Add(2)
	go func() { defer f.wg.Done(); f.accept() }()
	go func() { defer f.wg.Done(); f.readUDP() }()
	return f
}

// stop closes the recorder's sockets and waits for its goroutines.
func (f *fakeRecorder) stop() {
	f.ln.Close()
	f.rtpConn.Close()
	f.rtcpConn.Close()
	f.wg.Wait()
}

func (f *fakeRecorder) url() string { return "rtsp://" + f.ln.Addr().String() + "/live/cam" }

func (f *fakeRecorder) accept() {
	nc, err := f.ln.Accept()
	if err != nil {
		return
	}
	defer nc.Close()
	var wmu sync.Mutex
	write := func(b []byte) {
		wmu.Lock()
		defer wmu.Unlock()
		_, _ = nc.Write(b)
	}
	r := rtsp.NewReader(nc, rtsp.WithMaxBodyBytes(1<<20))
	for {
		msg, err := r.ReadMessage()
		if err != nil {
			return
		}
		if m, ok := msg.(*rtsp.Interleaved); ok {
			data := append([]byte(nil), m.Data...)
			if m.Channel == 0 {
				f.keepRTP(data)
			} else if ssrc, ok := f.sawSR(data); ok {
				write(rtsp.AppendInterleaved(nil, m.Channel, f.receiverReport(ssrc)))
			}
			continue
		}
		req := msg.(*rtsp.Request)
		cseq, _ := req.CSeq()
		resp := &rtsp.Response{StatusCode: 200}
		resp.Header.Set("CSeq", cseq)
		f.mu.Lock()
		f.methods = append(f.methods, req.Method)
		refusal := f.refuse[req.Method]
		f.mu.Unlock()
		if refusal == "-" {
			continue // no answer
		}
		if refusal != "" {
			code, reason, _ := strings.Cut(refusal, " ")
			resp.StatusCode, _ = strconv.Atoi(code)
			resp.Reason = reason
			b, _ := resp.Append(nil)
			write(b)
			continue
		}
		switch req.Method {
		case "ANNOUNCE":
			f.mu.Lock()
			f.sdp = append([]byte(nil), req.Body...)
			f.mu.Unlock()
		case "SETUP":
			resp.Header.Set("Session", "rec1;timeout=60")
			trs, err := rtsp.ParseTransports(req.Header.Get("Transport"))
			if err != nil || trs[0].Mode != "RECORD" {
				resp.StatusCode = 461
				break
			}
			if trs[0].Protocol == rtsp.ProtocolTCP {
				resp.Header.Set("Transport", "RTP/AVP/TCP;unicast;interleaved=0-1;mode=record")
				break
			}
			f.mu.Lock()
			f.rtcpDest = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(trs[0].ClientPort[1]))
			f.mu.Unlock()
			resp.Header.Set("Transport", req.Header.Get("Transport")+";server_port="+
				strconv.Itoa(f.rtpConn.LocalAddr().(*net.UDPAddr).Port)+"-"+strconv.Itoa(f.rtcpConn.LocalAddr().(*net.UDPAddr).Port))
		case "TEARDOWN":
			f.mu.Lock()
			f.teardown = true
			f.mu.Unlock()
		}
		b, _ := resp.Append(nil)
		write(b)
		if req.Method == "RECORD" && f.closeAfterRecord {
			time.Sleep(200 * time.Millisecond)
			return
		}
	}
}

// readUDP keeps the RTP that comes over UDP and answers Sender Reports.
func (f *fakeRecorder) readUDP() {
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		buf := make([]byte, 1500)
		for {
			n, err := f.rtcpConn.Read(buf)
			if err != nil {
				return
			}
			if ssrc, ok := f.sawSR(buf[:n]); ok {
				f.mu.Lock()
				dest := f.rtcpDest
				f.mu.Unlock()
				_, _ = f.rtcpConn.WriteToUDPAddrPort(f.receiverReport(ssrc), dest)
			}
		}
	}()
	buf := make([]byte, 65536)
	for {
		n, err := f.rtpConn.Read(buf)
		if err != nil {
			return
		}
		f.keepRTP(append([]byte(nil), buf[:n]...))
	}
}

func (f *fakeRecorder) keepRTP(b []byte) {
	var pkt rtp.Packet
	if err := pkt.Unmarshal(b); err != nil {
		f.t.Errorf("not RTP: %v", err)
		return
	}
	f.mu.Lock()
	f.packets = append(f.packets, arrival{pkt: pkt, at: time.Now()})
	f.mu.Unlock()
}

// sawSR counts a Sender Report and returns the SSRC it is about.
func (f *fakeRecorder) sawSR(b []byte) (uint32, bool) {
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		f.t.Errorf("not RTCP: %v", err)
		return 0, false
	}
	for _, p := range pkts {
		if sr, ok := p.(*rtcp.SenderReport); ok {
			f.mu.Lock()
			f.srs++
			f.mu.Unlock()
			return sr.SSRC, true
		}
	}
	return 0, false
}

// receiverReport reports on ssrc: a quarter of the stream lost, 1 ms of
// jitter.
func (f *fakeRecorder) receiverReport(ssrc uint32) []byte {
	f.mu.Lock()
	f.rrSent++
	f.mu.Unlock()
	b, err := (&rtcp.ReceiverReport{SSRC: 99, Reports: []rtcp.ReceptionReport{{
		SSRC: ssrc, FractionLost: 64, TotalLost: 7, Jitter: 90,
	}}}).Marshal()
	enginetest.Must(f.t, err)
	return b
}

// Publishing over UDP and TCP: the ANNOUNCE's SDP names one JPEG track at
// the file's rate and size; the frames go out paced at that rate (RTP
// timestamps 90000/fps apart, arrivals spread over the clip's length,
// not as fast as possible); Sender Reports go out and the server's
// Receiver Reports are read; TEARDOWN ends it.
func TestPublishAnnouncesPacesAndReports(t *testing.T) {
	const n, fps = 20, 25.0
	path, _ := writeClip(t, 160, 120, n, "25")
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			f := startFakeRecorder(t)
			p := publishWhenListening(t, client.PublishConfig{URL: f.url(), File: path, Transport: transport})
			if err := waitDone(t, p, 10*time.Second); err != nil {
				t.Fatalf("publication ended with %v", err)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if got := strings.Join(f.methods, " "); got != "ANNOUNCE SETUP RECORD TEARDOWN" {
				t.Errorf("requests %s", got)
			}
			base, _ := url.Parse(f.url())
			resp := &rtsp.Response{StatusCode: 200, Body: f.sdp}
			resp.Header.Set("Content-Base", f.url()+"/")
			d, err := rtsp.ParseDescription(base, resp)
			if err != nil {
				t.Fatalf("the announced SDP does not parse: %v\n%s", err, f.sdp)
			}
			if d.PayloadType != 26 || d.FPS != fps || d.Width != 160 || d.Height != 120 || d.Control != f.url()+"/trackID=0" {
				t.Errorf("announced %+v\n%s", d, f.sdp)
			}
			if !strings.Contains(string(f.sdp), "a=rtpmap:26 JPEG/90000") {
				t.Errorf("SDP names no JPEG/90000:\n%s", f.sdp)
			}

			// One run of timestamps 3600 apart, one marker per frame.
			var firsts []arrival
			markers := 0
			for i, a := range f.packets {
				if a.pkt.PayloadType != 26 {
					t.Fatalf("packet %d: payload type %d", i, a.pkt.PayloadType)
				}
				if i == 0 || a.pkt.Timestamp != f.packets[i-1].pkt.Timestamp {
					firsts = append(firsts, a)
				}
				if a.pkt.Marker {
					markers++
				}
				if i > 0 && a.pkt.SequenceNumber != f.packets[i-1].pkt.SequenceNumber+1 {
					t.Errorf("packet %d: sequence %d after %d", i, a.pkt.SequenceNumber, f.packets[i-1].pkt.SequenceNumber)
				}
			}
			if len(firsts) != n || markers != n {
				t.Fatalf("%d frames, %d markers; want %d", len(firsts), markers, n)
			}
			for i := 1; i < n; i++ {
				if step := firsts[i].pkt.Timestamp - firsts[i-1].pkt.Timestamp; step != 3600 {
					t.Errorf("frame %d: timestamp step %d, want 3600 (90000/25)", i, step)
				}
			}
			want := time.Duration(float64(n-1) / fps * float64(time.Second))
			spread := firsts[n-1].at.Sub(firsts[0].at)
			if spread < want*8/10 || spread > want+time.Second {
				t.Errorf("frames arrived over %s, want about %s (paced at %g fps)", spread, want, fps)
			}

			if f.srs == 0 || f.rrSent == 0 {
				t.Fatalf("%d RTCP Sender Reports, %d Receiver Reports", f.srs, f.rrSent)
			}
			st := p.Stats()
			if st.ReceiverReports == 0 || st.FractionLost != 0.25 || st.TotalLost != 7 || st.Jitter != time.Millisecond {
				t.Errorf("the server's Receiver Report read as %+v", st)
			}
			if st.Packets != uint64(len(f.packets)) {
				t.Errorf("%d packets counted, %d arrived", st.Packets, len(f.packets))
			}
		})
	}
}

// A refusal fails Publish with the server's status and reason, and what
// it means; nothing is sent.
func TestPublishRefused(t *testing.T) {
	path, _ := writeClip(t, 64, 48, 3, "25")
	f := startFakeRecorder(t)
	f.refuse = map[string]string{"ANNOUNCE": "455 Path Busy"}
	_, err := client.Publish(t.Context(), client.PublishConfig{URL: f.url(), File: path, Log: enginetest.Logger(t)})
	if err == nil || !strings.Contains(err.Error(), "ANNOUNCE: 455 Path Busy") || !strings.Contains(err.Error(), "another publisher") {
		t.Fatalf("Publish: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.packets) != 0 {
		t.Error("media sent after a refusal")
	}
}

// The server gone while media flows ends the publication with an error
// that says so.
func TestPublishConnectionLost(t *testing.T) {
	path, _ := writeClip(t, 64, 48, 50, "25")
	f := startFakeRecorder(t)
	f.closeAfterRecord = true
	p := publishWhenListening(t, client.PublishConfig{URL: f.url(), File: path, Transport: "tcp"})
	err := waitDone(t, p, 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "connection to the server lost") {
		t.Fatalf("ended with %v", err)
	}
}

// Publish gives up setting up when its context ends (Ctrl-C while the
// server does not answer), rather than after the request timeout.
func TestPublishSetupCancelled(t *testing.T) {
	path, _ := writeClip(t, 64, 48, 3, "25")
	f := startFakeRecorder(t)
	f.refuse = map[string]string{"ANNOUNCE": "-"}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := client.Publish(ctx, client.PublishConfig{URL: f.url(), File: path, Log: enginetest.Logger(t)})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Publish: %v, want the context's end", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Publish gave up after %s", took)
	}
}

// A publication sent to the end, and a looping one closed midway, leave
// no goroutine behind once closed.
func TestPublishLeavesNoGoroutines(t *testing.T) {
	path, _ := writeClip(t, 64, 48, 5, "25")
	before := goleak.IgnoreCurrent()
	for _, tc := range []struct {
		transport string
		loop      bool
	}{{"udp", false}, {"tcp", true}} {
		f := startFakeRecorder(t)
		p, err := client.Publish(t.Context(), client.PublishConfig{URL: f.url(), File: path, Transport: tc.transport, Loop: tc.loop, Log: enginetest.Logger(t)})
		enginetest.Must(t, err)
		if tc.loop {
			time.Sleep(300 * time.Millisecond)
		} else if err := waitDone(t, p, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		enginetest.Must(t, p.Close())
		f.stop()
	}
	// protoactor's dead-letter throttle (a dead letter logged, say a
	// message to the stopped actor) keeps a timer goroutine for a second
	// after it; it is the actor system's, not the publisher's.
	goleak.VerifyNone(t, before, goleak.IgnoreTopFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1"))
}
