package interop

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// wireSeconds is how long the raw client lets the stream play.
const wireSeconds = 2

// arrival is one RTP or RTCP packet as received.
type arrival struct {
	at   time.Time
	data []byte
	from netip.AddrPort // UDP only
	// nRTP is the number of RTP packets received before this one; for
	// RTCP it places the report in the RTP stream.
	nRTP int
}

// capture collects what the server sent, from one or two goroutines.
type capture struct {
	mu        sync.Mutex
	rtp, rtcp []arrival
	stray     []string // interleaved frames on unexpected channels
}

func (c *capture) add(isRTCP bool, data []byte, from netip.AddrPort) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := arrival{at: time.Now(), data: data, from: from, nRTP: len(c.rtp)}
	if isRTCP {
		c.rtcp = append(c.rtcp, a)
	} else {
		c.rtp = append(c.rtp, a)
	}
}

// hasBye reports whether an RTCP BYE for ssrc has arrived.
func (c *capture) hasBye(ssrc uint32) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range c.rtcp {
		if byeFor(a.data, ssrc) {
			return true
		}
	}
	return false
}

func byeFor(data []byte, ssrc uint32) bool {
	pkts, err := rtcp.Unmarshal(data)
	if err != nil {
		return false
	}
	for _, p := range pkts {
		if g, ok := p.(*rtcp.Goodbye); ok {
			for _, s := range g.Sources {
				if s == ssrc {
					return true
				}
			}
		}
	}
	return false
}

// wireSession is what the raw client learnt from one session.
type wireSession struct {
	transport  string
	ssrc       uint32 // Transport ssrc= of the SETUP reply
	seq        uint16 // RTP-Info seq
	rtptime    uint32 // RTP-Info rtptime
	serverPort [2]int // UDP server_port
	playAt     time.Time
	teardownAt time.Time // TEARDOWN sent
	teardownOK time.Time // its reply received
	cap        *capture
}

// TestWire plays each media with a raw RTSP client over UDP and over
// TCP-interleaved transport and checks what arrives with our own RTP,
// RTCP and RFC 2435 parsing. Two sessions at a time at most (-parallel
// defaults to GOMAXPROCS): the client reads with 4 MB socket buffers.
func TestWire(t *testing.T) {
	forEach(t, true, func(t *testing.T, md *media, tr string) {
		ws, err := runWireSession(t, md, tr)
		if err != nil {
			record("wire", tr, md.name, "FAIL: "+err.Error())
			t.Fatal(err)
		}
		cell := checkWire(t, md, ws)
		if t.Failed() {
			cell = "FAIL: " + cell
		}
		record("wire", tr, md.name, cell)
		t.Log(cell)
	})
}

// bindUDPPair binds an even RTP port and the RTCP port after it on
// 127.0.0.1.
func bindUDPPair() (rtpConn, rtcpConn *net.UDPConn, err error) {
	lo := net.IPv4(127, 0, 0, 1)
	for range 100 {
		a, err := net.ListenUDP("udp4", &net.UDPAddr{IP: lo})
		if err != nil {
			return nil, nil, err
		}
		port := a.LocalAddr().(*net.UDPAddr).Port
		if port%2 != 0 || port >= 65535 {
			a.Close()
			continue
		}
		b, err := net.ListenUDP("udp4", &net.UDPAddr{IP: lo, Port: port + 1})
		if err != nil {
			a.Close()
			continue
		}
		return a, b, nil
	}
	return nil, nil, errors.New("no free even/odd UDP port pair")
}

func readUDP(conn *net.UDPConn, isRTCP bool, c *capture, wg *sync.WaitGroup) {
	defer wg.Done()
	buf := make([]byte, 65536)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		c.add(isRTCP, append([]byte(nil), buf[:n]...), from)
	}
}

// runWireSession does OPTIONS, DESCRIBE, SETUP, PLAY, wireSeconds of
// reception, TEARDOWN, and waits up to 3 s for the RTCP BYE.
func runWireSession(t *testing.T, md *media, tr string) (*wireSession, error) {
	ws := &wireSession{transport: tr, cap: &capture{}}
	addr := strings.TrimSuffix(strings.TrimPrefix(baseURL, "rtsp://"), "/")
	c, err := dialRTSP(addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	url := md.url()

	resp, err := c.do("OPTIONS", url)
	if err != nil {
		return nil, err
	}
	if resp.code != 200 {
		return nil, fmt.Errorf("OPTIONS: %d %s", resp.code, resp.reason)
	}
	for _, m := range []string{"DESCRIBE", "SETUP", "PLAY", "TEARDOWN"} {
		if !strings.Contains(resp.header.Get("Public"), m) {
			t.Errorf("OPTIONS Public %q lacks %s", resp.header.Get("Public"), m)
		}
	}

	resp, err = c.do("DESCRIBE", url, "Accept: application/sdp")
	if err != nil {
		return nil, err
	}
	if resp.code != 200 {
		return nil, fmt.Errorf("DESCRIBE: %d %s", resp.code, resp.reason)
	}
	sdp := string(resp.body)
	if ct := resp.header.Get("Content-Type"); ct != "application/sdp" {
		t.Errorf("DESCRIBE Content-Type %q", ct)
	}
	for _, want := range []string{"m=video 0 RTP/AVP 26", "a=rtpmap:26 JPEG/90000"} {
		if !strings.Contains(sdp, want) {
			t.Errorf("SDP lacks %q:\n%s", want, sdp)
		}
	}
	control := ""
	if _, mediaPart, ok := strings.Cut(sdp, "m=video"); ok {
		for _, l := range strings.Split(mediaPart, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), "a=control:"); ok {
				control = v
			}
		}
	}
	base := resp.header.Get("Content-Base")
	if base == "" {
		base = url
	}
	track := control
	switch {
	case control == "" || control == "*":
		track = base
	case !strings.HasPrefix(control, "rtsp://"):
		track = strings.TrimSuffix(base, "/") + "/" + control
	}

	var rtpConn, rtcpConn *net.UDPConn
	var readers sync.WaitGroup
	transport := "RTP/AVP/TCP;unicast;interleaved=0-1"
	if tr == "udp" {
		rtpConn, rtcpConn, err = bindUDPPair()
		if err != nil {
			return nil, err
		}
		_ = rtpConn.SetReadBuffer(4 << 20)
		_ = rtcpConn.SetReadBuffer(1 << 20)
		readers.Add(2)
		go readUDP(rtpConn, false, ws.cap, &readers)
		go readUDP(rtcpConn, true, ws.cap, &readers)
		defer func() {
			rtpConn.Close()
			rtcpConn.Close()
			readers.Wait()
		}()
		p := rtpConn.LocalAddr().(*net.UDPAddr).Port
		transport = fmt.Sprintf("RTP/AVP;unicast;client_port=%d-%d", p, p+1)
	} else {
		c.onInterleaved = func(ch byte, data []byte) {
			switch ch {
			case 0:
				ws.cap.add(false, data, netip.AddrPort{})
			case 1:
				ws.cap.add(true, data, netip.AddrPort{})
			default:
				ws.cap.mu.Lock()
				ws.cap.stray = append(ws.cap.stray, fmt.Sprintf("channel %d, %d bytes", ch, len(data)))
				ws.cap.mu.Unlock()
			}
		}
	}

	resp, err = c.do("SETUP", track, "Transport: "+transport)
	if err != nil {
		return nil, err
	}
	if resp.code != 200 {
		return nil, fmt.Errorf("SETUP %s: %d %s", track, resp.code, resp.reason)
	}
	sess, _, _ := strings.Cut(resp.header.Get("Session"), ";")
	if sess == "" {
		return nil, errors.New("SETUP reply has no Session")
	}
	c.session = strings.TrimSpace(sess)
	tp := transportParams(resp.header.Get("Transport"))
	ssrc, err := strconv.ParseUint(tp["ssrc"], 16, 32)
	if err != nil {
		return nil, fmt.Errorf("SETUP Transport %q: no hex ssrc", resp.header.Get("Transport"))
	}
	ws.ssrc = uint32(ssrc)
	if tr == "udp" {
		p := rtpConn.LocalAddr().(*net.UDPAddr).Port
		if a, b, err := portPair(tp["client_port"]); err != nil || a != p || b != p+1 {
			t.Errorf("SETUP Transport client_port=%q, want %d-%d", tp["client_port"], p, p+1)
		}
		a, b, err := portPair(tp["server_port"])
		if err != nil || b != a+1 {
			t.Errorf("SETUP Transport server_port=%q, want an RTP/RTCP pair", tp["server_port"])
		}
		ws.serverPort = [2]int{a, b}
	} else if tp["interleaved"] != "0-1" {
		t.Errorf("SETUP Transport interleaved=%q, want 0-1", tp["interleaved"])
	}

	ws.playAt = time.Now()
	resp, err = c.do("PLAY", base, "Range: npt=0-")
	if err != nil {
		return nil, err
	}
	if resp.code != 200 {
		return nil, fmt.Errorf("PLAY: %d %s", resp.code, resp.reason)
	}
	ws.seq, ws.rtptime, err = rtpInfo(resp.header.Get("Rtp-Info"))
	if err != nil {
		return nil, fmt.Errorf("PLAY: %w", err)
	}

	// Receive. Over TCP, read whole messages until the time is up (a read
	// deadline inside a "$" frame would break the framing).
	end := ws.playAt.Add(wireSeconds * time.Second)
	if tr == "udp" {
		time.Sleep(time.Until(end))
	} else {
		for time.Now().Before(end) {
			resp, err := c.read(time.Now().Add(5 * time.Second))
			if err != nil {
				return nil, fmt.Errorf("reading the interleaved stream: %w", err)
			}
			if resp != nil {
				return nil, fmt.Errorf("unsolicited response %d while playing", resp.code)
			}
		}
	}

	ws.teardownAt = time.Now()
	resp, err = c.do("TEARDOWN", base)
	if err != nil {
		return nil, err
	}
	ws.teardownOK = time.Now()
	if resp.code != 200 {
		return nil, fmt.Errorf("TEARDOWN: %d %s", resp.code, resp.reason)
	}
	c.session = ""

	// Wait for the BYE.
	byeBy := time.Now().Add(3 * time.Second)
	for !ws.cap.hasBye(ws.ssrc) && time.Now().Before(byeBy) {
		if tr == "udp" {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if _, err := c.read(byeBy); err != nil {
			break
		}
	}
	if tr == "udp" {
		time.Sleep(100 * time.Millisecond) // let stragglers in, if any
	}
	return ws, nil
}

// jpegHeader is the RFC 2435 header of one RTP/JPEG packet.
type jpegHeader struct {
	typeSpecific  int
	offset        int
	typ, q        int
	width, height int
	dri           int // restart interval (types 64..127)
	hasQTable     bool
	qPrecision    int
	qLength       int
	dataLen       int // JPEG bytes in this packet
}

func parseJPEGHeader(b []byte) (jpegHeader, error) {
	var h jpegHeader
	if len(b) < 8 {
		return h, fmt.Errorf("payload of %d bytes: no RFC 2435 main header", len(b))
	}
	h.typeSpecific = int(b[0])
	h.offset = int(b[1])<<16 | int(b[2])<<8 | int(b[3])
	h.typ, h.q = int(b[4]), int(b[5])
	h.width, h.height = int(b[6])*8, int(b[7])*8
	pos := 8
	if h.typ >= 64 && h.typ <= 127 {
		if len(b) < pos+4 {
			return h, errors.New("truncated restart marker header")
		}
		h.dri = int(b[pos])<<8 | int(b[pos+1])
		pos += 4
	}
	if h.q >= 128 && h.offset == 0 {
		if len(b) < pos+4 {
			return h, errors.New("truncated quantization table header")
		}
		h.hasQTable = true
		h.qPrecision = int(b[pos+1])
		h.qLength = int(b[pos+2])<<8 | int(b[pos+3])
		pos += 4 + h.qLength
		if len(b) < pos {
			return h, fmt.Errorf("quantization tables of %d bytes overrun the packet", h.qLength)
		}
	}
	h.dataLen = len(b) - pos
	return h, nil
}

type rtpJPEG struct {
	arrival
	pkt rtp.Packet
	hdr jpegHeader
}

// problems collects failures of one check, reporting the first few.
type problems struct {
	t    *testing.T
	name string
	n    int
}

func (p *problems) add(format string, args ...any) {
	p.t.Helper()
	if p.n < 3 {
		p.t.Errorf("%s: %s", p.name, fmt.Sprintf(format, args...))
	}
	p.n++
}

func (p *problems) done() {
	p.t.Helper()
	if p.n > 3 {
		p.t.Errorf("%s: %d problems in all", p.name, p.n)
	}
}

// checkWire checks a captured session and returns a one-line summary.
func checkWire(t *testing.T, md *media, ws *wireSession) string {
	c := ws.cap
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.stray) > 0 {
		t.Errorf("interleaved frames on channels other than 0-1: %v", c.stray[:min(3, len(c.stray))])
	}
	if len(c.rtp) == 0 {
		t.Fatalf("no RTP packets received")
	}

	// Per-packet checks.
	pkts := make([]rtpJPEG, 0, len(c.rtp))
	basic := &problems{t: t, name: "rtp"}
	for i, a := range c.rtp {
		p := rtpJPEG{arrival: a}
		if err := p.pkt.Unmarshal(a.data); err != nil {
			basic.add("packet %d: %v", i, err)
			continue
		}
		if len(a.data) > mtu {
			basic.add("packet %d (seq %d) is %d bytes, more than %d", i, p.pkt.SequenceNumber, len(a.data), mtu)
		}
		if p.pkt.Version != 2 || p.pkt.PayloadType != 26 {
			basic.add("packet %d: version %d, payload type %d; want 2, 26", i, p.pkt.Version, p.pkt.PayloadType)
		}
		if p.pkt.SSRC != ws.ssrc {
			basic.add("packet %d: SSRC %08x, but SETUP said ssrc=%08x", i, p.pkt.SSRC, ws.ssrc)
		}
		if ws.transport == "udp" && int(a.from.Port()) != ws.serverPort[0] {
			basic.add("packet %d came from port %d, not server_port %d", i, a.from.Port(), ws.serverPort[0])
		}
		h, err := parseJPEGHeader(p.pkt.Payload)
		if err != nil {
			basic.add("packet %d (seq %d): %v", i, p.pkt.SequenceNumber, err)
			continue
		}
		p.hdr = h
		pkts = append(pkts, p)
	}
	basic.done()
	if len(pkts) == 0 {
		t.FailNow()
	}

	// Sequence numbers: from RTP-Info's seq on, no gap, no reordering.
	seqs := &problems{t: t, name: "sequence"}
	if got := pkts[0].pkt.SequenceNumber; got != ws.seq {
		seqs.add("first packet has seq %d, RTP-Info said seq=%d", got, ws.seq)
	}
	lost, reordered := 0, 0
	for i := 1; i < len(pkts); i++ {
		d := pkts[i].pkt.SequenceNumber - pkts[i-1].pkt.SequenceNumber
		switch {
		case d == 1:
		case d == 0 || d > 0x8000:
			reordered++
		default:
			lost += int(d) - 1
		}
	}
	if lost > 0 || reordered > 0 {
		seqs.add("%d packets missing, %d duplicated or reordered in %d", lost, reordered, len(pkts))
	}
	seqs.done()

	// Frames: consecutive packets with the same timestamp.
	var frames [][]rtpJPEG
	for i, p := range pkts {
		if i == 0 || p.pkt.Timestamp != pkts[i-1].pkt.Timestamp {
			frames = append(frames, nil)
		}
		frames[len(frames)-1] = append(frames[len(frames)-1], p)
	}
	if last := frames[len(frames)-1]; !last[len(last)-1].pkt.Marker {
		frames = frames[:len(frames)-1] // cut off by TEARDOWN
	}

	ts := &problems{t: t, name: "timestamps"}
	if got := pkts[0].pkt.Timestamp; got != ws.rtptime {
		ts.add("first packet has timestamp %d, RTP-Info said rtptime=%d", got, ws.rtptime)
	}
	const tick = clockRate / fps
	for i := 1; i < len(frames); i++ {
		if d := frames[i][0].pkt.Timestamp - frames[i-1][0].pkt.Timestamp; d != tick {
			ts.add("frame %d: timestamp advanced by %d, want %d", i, int32(d), tick)
		}
	}
	ts.done()

	jp := &problems{t: t, name: "RFC 2435"}
	for fi, fr := range frames {
		off := 0
		for pi, p := range fr {
			h := p.hdr
			if h.offset != off {
				jp.add("frame %d packet %d: fragment offset %d, want %d", fi, pi, h.offset, off)
				break
			}
			off += h.dataLen
			if p.pkt.Marker != (pi == len(fr)-1) {
				jp.add("frame %d: marker %v on packet %d of %d", fi, p.pkt.Marker, pi, len(fr))
			}
			if h.typ != md.rfcType || h.width != md.width || h.height != md.height {
				jp.add("frame %d packet %d: type %d %dx%d, want type %d %dx%d", fi, pi, h.typ, h.width, h.height, md.rfcType, md.width, md.height)
			}
			if h.typ >= 64 && h.dri == 0 {
				jp.add("frame %d packet %d: type %d with restart interval 0", fi, pi, h.typ)
			}
			if h.q != 255 {
				jp.add("frame %d packet %d: Q=%d, want 255", fi, pi, h.q)
			}
		}
		first := fr[0].hdr
		if first.offset == 0 && (!first.hasQTable || first.qLength != 128 || first.qPrecision != 0) {
			jp.add("frame %d: first packet's quantization table header: present %v, length %d, precision %d; want length 128, 8-bit",
				fi, first.hasQTable, first.qLength, first.qPrecision)
		}
	}
	jp.done()

	// Pacing: no faster than real time, and not far behind.
	elapsed := ws.teardownOK.Sub(ws.playAt)
	maxFrames := int(elapsed.Seconds()*fps) + 1
	minFrames := int(0.8 * float64(ws.teardownAt.Sub(ws.playAt).Seconds()*fps))
	if len(frames) > maxFrames || len(frames) < minFrames {
		t.Errorf("pacing: %d complete frames in %v from PLAY to TEARDOWN's reply, want %d..%d at %d fps",
			len(frames), elapsed.Round(time.Millisecond), minFrames, maxFrames, fps)
	}

	// RTCP.
	rc := &problems{t: t, name: "RTCP"}
	srs, byes, byeBefore := 0, 0, 0
	var byeSR *rtcp.SenderReport
	for i, a := range c.rtcp {
		if ws.transport == "udp" && int(a.from.Port()) != ws.serverPort[1] {
			rc.add("RTCP packet %d came from port %d, not server_port %d", i, a.from.Port(), ws.serverPort[1])
		}
		list, err := rtcp.Unmarshal(a.data)
		if err != nil {
			rc.add("RTCP packet %d: %v", i, err)
			continue
		}
		if _, ok := list[0].(*rtcp.SenderReport); !ok {
			rc.add("RTCP compound %d starts with %T, want a sender report (RFC 3550 §6.1)", i, list[0])
		}
		var sr *rtcp.SenderReport
		bye := false
		for _, p := range list {
			switch p := p.(type) {
			case *rtcp.SenderReport:
				if p.SSRC != ws.ssrc {
					rc.add("SR from SSRC %08x, want %08x", p.SSRC, ws.ssrc)
					continue
				}
				sr = p
			case *rtcp.Goodbye:
				for _, s := range p.Sources {
					if s == ws.ssrc {
						bye = true
					}
				}
			}
		}
		if sr != nil {
			if a.at.Before(ws.teardownAt) {
				srs++
			}
			// Its RTP time against the last RTP packet received before it.
			if a.nRTP > 0 && a.nRTP <= len(c.rtp) {
				var last rtp.Header
				if _, err := last.Unmarshal(c.rtp[a.nRTP-1].data); err == nil {
					if d := int32(sr.RTPTime - last.Timestamp); d > clockRate || d < -clockRate {
						rc.add("SR %d: RTP time %d is %.2f s from the last RTP timestamp %d", i, sr.RTPTime, float64(d)/clockRate, last.Timestamp)
					}
				}
			}
			// Its NTP time against our clock (same host).
			ntp := time.Unix(int64(sr.NTPTime>>32)-2208988800, int64((sr.NTPTime&0xFFFFFFFF)*1e9>>32))
			if d := ntp.Sub(a.at); d > time.Second || d < -time.Second {
				rc.add("SR %d: NTP time %v is %v from its arrival", i, ntp.UTC(), d)
			}
		}
		if bye {
			byes++
			if a.at.Before(ws.teardownAt) {
				byeBefore++
			}
			byeSR = sr
		}
	}
	if srs == 0 {
		rc.add("no sender report from SSRC %08x before TEARDOWN (%d RTCP packets)", ws.ssrc, len(c.rtcp))
	}
	switch {
	case byes == 0:
		rc.add("no BYE for SSRC %08x within 3 s of TEARDOWN", ws.ssrc)
	case byeBefore > 0:
		rc.add("BYE for SSRC %08x before TEARDOWN", ws.ssrc)
	case byes > 1:
		rc.add("%d BYEs for SSRC %08x", byes, ws.ssrc)
	}
	if byeSR != nil && int(byeSR.PacketCount) != len(c.rtp) {
		rc.add("the BYE's SR counts %d packets sent, we received %d", byeSR.PacketCount, len(c.rtp))
	}
	rc.done()

	return fmt.Sprintf("%d frames, %d RTP packets, %d SR before TEARDOWN, BYE %v; seq gaps %d; %v",
		len(frames), len(c.rtp), srs, byes == 1 && byeBefore == 0, lost, elapsed.Round(10*time.Millisecond))
}
