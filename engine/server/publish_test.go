package server

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtcp"

	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/internal/auth"
	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/internal/rtsp"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
)

// jpegSDP is what ffmpeg announces for MJPEG.
const jpegSDP = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=test\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 0 RTP/AVP 26\r\na=control:streamid=0\r\n"

// testPublisher publishes over TCP interleaved from a bare connection.
type testPublisher struct {
	t       *testing.T
	c       *rtspConn
	url     string
	session string
	rtp     *rtpjpeg.Packetizer
	ts      uint32
	buf     []byte
}

// announce sends ANNOUNCE with sdp (and extra headers) and returns the answer.
func (c *rtspConn) announce(url, contentType, sdp string, headers ...string) *rtsp.Response {
	c.t.Helper()
	c.cseq++
	req := fmt.Sprintf("ANNOUNCE %s RTSP/1.0\r\nCSeq: %d\r\nContent-Type: %s\r\nContent-Length: %d\r\n", url, c.cseq, contentType, len(sdp))
	for _, h := range headers {
		req += h + "\r\n"
	}
	c.write(req + "\r\n" + sdp)
	return c.response()
}

// startPublisher announces, sets up over TCP and records on path; it
// fails the test unless each step gets 200.
func startPublisher(t *testing.T, ts *testServer, path string) *testPublisher {
	t.Helper()
	p := &testPublisher{t: t, c: dial(t, ts.addr), url: ts.url(path), rtp: rtpjpeg.NewPacketizer(0x1234, 100, 1400), buf: make([]byte, 1400)}
	if resp := p.c.announce(p.url, "application/sdp", jpegSDP); resp.StatusCode != 200 {
		t.Fatalf("ANNOUNCE: %d %s", resp.StatusCode, resp.Reason)
	}
	resp := p.c.do("SETUP", p.url+"/streamid=0", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record")
	if resp.StatusCode != 200 {
		t.Fatalf("SETUP: %d %s", resp.StatusCode, resp.Reason)
	}
	p.session, _, _ = strings.Cut(resp.Header.Get("Session"), ";")
	if resp := p.c.do("RECORD", p.url, "Session: "+p.session); resp.StatusCode != 200 {
		t.Fatalf("RECORD: %d %s", resp.StatusCode, resp.Reason)
	}
	return p
}

// packets packetizes one frame (40 ms after the last) into RTP packets.
func (p *testPublisher) packets(jpeg []byte) [][]byte {
	p.t.Helper()
	var j rtpjpeg.JPEG
	enginetest.Must(p.t, rtpjpeg.ParseJPEG(jpeg, &j))
	p.rtp.Begin(&j, p.ts)
	p.ts += 3600
	var out [][]byte
	for {
		n := p.rtp.Next(p.buf)
		if n == 0 {
			return out
		}
		out = append(out, append([]byte(nil), p.buf[:n]...))
	}
}

// send writes RTP packets on channel 0; an error means the server
// closed the connection.
func (p *testPublisher) send(pkts ...[]byte) error {
	var b []byte
	for _, pk := range pkts {
		b = rtsp.AppendInterleaved(b, 0, pk)
	}
	_, err := p.c.nc.Write(b)
	return err
}

// sendFrames sends n frames of w×h, numbered from first, 40 ms apart,
// until the connection closes. It may run on a goroutine of its own.
func (p *testPublisher) sendFrames(first, n, w, h int) {
	for i := range n {
		if p.send(p.packets(enginetest.JPEG(p.t, w, h, first+i))...) != nil {
			return
		}
		time.Sleep(40 * time.Millisecond)
	}
}

// watchPath plays path with our client as soon as it is open.
func watchPath(t *testing.T, ts *testServer, path string) (*client.Client, *enginetest.Collector) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		col := enginetest.NewCollector()
		c, err := client.Dial(t.Context(), client.Config{URL: ts.url(path), Transport: "tcp", Output: col.Output, Log: enginetest.Logger(t), IdleEnd: time.Minute})
		if err == nil {
			if err = c.Setup(); err == nil {
				t.Cleanup(func() { c.Close() })
				enginetest.Must(t, c.Play())
				return c, col
			}
			c.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never became playable: %v", path, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAnnounceRefusesWhatItCannotTake: an ANNOUNCE that is not one MJPEG
// video track gets 415 (or 400 when it is not SDP) with the reason.
func TestAnnounceRefusesWhatItCannotTake(t *testing.T) {
	ts := startServer(t, Config{})
	base := "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
	for _, tc := range []struct {
		name, ctype, sdp string
		code             int
		reason           string
	}{
		{"h264", "application/sdp", base + "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n", 415, "H264"},
		{"two tracks", "application/sdp", base + "m=video 0 RTP/AVP 26\r\nm=audio 0 RTP/AVP 0\r\n", 415, "2 media tracks"},
		{"audio only", "application/sdp", base + "m=audio 0 RTP/AVP 0\r\n", 415, "audio track"},
		{"no media", "application/sdp", base, 415, "no media"},
		{"dynamic without rtpmap", "application/sdp", base + "m=video 0 RTP/AVP 96\r\n", 415, "without an rtpmap"},
		{"not sdp", "application/sdp", "hello", 400, "does not parse"},
		{"other content type", "text/plain", jpegSDP, 415, "application/sdp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, ts.addr)
			resp := c.announce(ts.url("live/x"), tc.ctype, tc.sdp)
			if resp.StatusCode != tc.code || !strings.Contains(resp.Reason, tc.reason) {
				t.Fatalf("got %d %q, want %d with %q", resp.StatusCode, resp.Reason, tc.code, tc.reason)
			}
		})
	}
	// A dynamic payload type whose rtpmap says JPEG is taken.
	c := dial(t, ts.addr)
	if resp := c.announce(ts.url("live/dyn"), "application/sdp", base+"m=video 0 RTP/AVP 96\r\na=rtpmap:96 JPEG/90000\r\n"); resp.StatusCode != 200 {
		t.Fatalf("JPEG on a dynamic payload type: %d %s", resp.StatusCode, resp.Reason)
	}
}

// TestPublishFileRefused: a path that is a file under the root cannot be
// published over.
func TestPublishFileRefused(t *testing.T) {
	ts := startServer(t, Config{})
	resp := dial(t, ts.addr).announce(ts.url("clip.mjpeg"), "application/sdp", jpegSDP)
	if resp.StatusCode != 403 || !strings.Contains(resp.Reason, "file") {
		t.Fatalf("got %d %q, want 403 naming the file", resp.StatusCode, resp.Reason)
	}
}

// TestPublishViewersAndSecondPublisher: a publisher's frames reach a
// viewer pixel for pixel; a second publisher on the path is refused with
// 455 while the first one holds it.
func TestPublishViewersAndSecondPublisher(t *testing.T) {
	ts := startServer(t, Config{})
	pub := startPublisher(t, ts, "live/cam1")
	opened := make(chan struct{})
	go func() { pub.sendFrames(0, 3, 64, 48); close(opened) }() // opens the path (the rate from two frames)
	_, col := watchPath(t, ts, "live/cam1")
	<-opened
	pub.sendFrames(10, 10, 64, 48)
	col.WaitFrames(t, 5, 5*time.Second)
	for i, f := range col.All() {
		found := false
		for n := range 13 {
			if enginetest.SamePixels(t, f, enginetest.JPEG(t, 64, 48, n%3+n/3*10)) || enginetest.SamePixels(t, f, enginetest.JPEG(t, 64, 48, 10+n%10)) {
				found = true
				break
			}
		}
		if !found {
			t.Fatalf("viewer frame %d was never published", i)
		}
	}
	resp := dial(t, ts.addr).announce(ts.url("live/cam1"), "application/sdp", jpegSDP)
	if resp.StatusCode != 455 || !strings.Contains(resp.Reason, "published") {
		t.Fatalf("second publisher: %d %q, want 455", resp.StatusCode, resp.Reason)
	}
}

// TestPublishTakeover: with LiveTakeover a second publisher replaces the
// first, whose connection is closed, and the viewer goes on with the new
// one's frames.
func TestPublishTakeover(t *testing.T) {
	ts := startServer(t, Config{LiveTakeover: true})
	a := startPublisher(t, ts, "live/cam1")
	go a.sendFrames(0, 5, 64, 48)
	_, col := watchPath(t, ts, "live/cam1")
	b := startPublisher(t, ts, "live/cam1")
	if !a.c.closed() {
		t.Fatal("the publisher taken over still has its connection")
	}
	n := col.Count()
	b.sendFrames(100, 10, 80, 64)
	col.WaitFrames(t, n+3, 5*time.Second)
	last := col.All()[col.Count()-1]
	if !enginetest.SamePixels(t, last, enginetest.JPEG(t, 80, 64, 109)) && !enginetest.SamePixels(t, last, enginetest.JPEG(t, 80, 64, 108)) {
		t.Fatal("the viewer does not see the new publisher's frames")
	}
}

// TestPublisherGoneLingerThenBye: a publisher that goes is replaced
// within the linger by another, and the viewer continues; when that one
// goes too and nobody comes within the linger, the viewer gets the end of
// the stream (RTCP BYE) and the path is gone.
func TestPublisherGoneLingerThenBye(t *testing.T) {
	ts := startServer(t, Config{LiveLinger: 500 * time.Millisecond})
	a := startPublisher(t, ts, "live/cam1")
	go a.sendFrames(0, 100, 64, 48) // until it vanishes: the viewer may join late on a loaded machine
	viewer, col := watchPath(t, ts, "live/cam1")
	col.WaitFrames(t, 1, 5*time.Second)
	a.c.nc.Close() // vanishes
	time.Sleep(100 * time.Millisecond)
	b := startPublisher(t, ts, "live/cam1")
	n := col.Count()
	b.sendFrames(50, 10, 64, 48)
	col.WaitFrames(t, n+5, 5*time.Second)
	select {
	case <-viewer.Done():
		t.Fatalf("the viewer ended although a publisher came back within the linger: %v", viewer.Err())
	default:
	}
	b.c.nc.Close()
	select {
	case <-viewer.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the viewer never saw the stream end after the linger")
	}
	if resp := dial(t, ts.addr).do("DESCRIBE", ts.url("live/cam1")); resp.StatusCode != 404 {
		t.Fatalf("DESCRIBE after the linger: %d, want 404", resp.StatusCode)
	}
}

// TestPublisherGarbageClosed: a publisher whose packets are not RTP of
// the announced payload type (PT 96 instead of 26) is refused: its
// connection is closed, and the path never opens.
func TestPublisherGarbageClosed(t *testing.T) {
	ts := startServer(t, Config{})
	pub := startPublisher(t, ts, "live/cam1")
	for i := range 300 {
		pk := pub.packets(enginetest.JPEG(t, 64, 48, i))[0]
		pk[1] = pk[1]&0x80 | 96
		if pub.send(pk) != nil {
			break // closed
		}
	}
	if !pub.c.closed() {
		t.Fatal("a publisher sending the wrong payload type keeps its connection")
	}
	if resp := dial(t, ts.addr).do("DESCRIBE", ts.url("live/cam1")); resp.StatusCode != 404 {
		t.Fatalf("DESCRIBE: %d, want 404", resp.StatusCode)
	}
}

// TestPublisherSilentTimesOut: a recording publisher that sends nothing
// is ended after LiveTimeout, its connection closed.
func TestPublisherSilentTimesOut(t *testing.T) {
	ts := startServer(t, Config{LiveTimeout: 300 * time.Millisecond})
	pub := startPublisher(t, ts, "live/cam1")
	start := time.Now()
	if !pub.c.closed() {
		t.Fatal("a silent publisher keeps its connection")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("closed after %v, LiveTimeout is 300ms", d)
	}
	if n := ts.srv.Sessions(); n != 0 {
		t.Fatalf("%d sessions left", n)
	}
}

// TestPublishCountsAgainstMaxSessions: a publisher takes a session place.
func TestPublishCountsAgainstMaxSessions(t *testing.T) {
	ts := startServer(t, Config{MaxSessions: 1})
	startPublisher(t, ts, "live/cam1")
	resp := dial(t, ts.addr).announce(ts.url("live/cam2"), "application/sdp", jpegSDP)
	if resp.StatusCode != 453 {
		t.Fatalf("ANNOUNCE beyond MaxSessions: %d, want 453", resp.StatusCode)
	}
}

// TestPublishPermission: with users, publishing needs the publish right
// on the path: no credentials get 401, a user with read only 403, a user
// whose paths do not include it 403, a user with both 200 through RECORD.
func TestPublishPermission(t *testing.T) {
	var lines []string
	for _, u := range []struct {
		name   string
		paths  []string
		rights []auth.Right
	}{
		{"viewer", nil, nil},
		{"cam", []string{"cams/**"}, []auth.Right{auth.RightRead, auth.RightPublish}},
	} {
		line, err := auth.FormatUser(u.name, "pw", "test", u.paths, u.rights...)
		enginetest.Must(t, err)
		lines = append(lines, line)
	}
	users, err := auth.ParseUsers(strings.NewReader(strings.Join(lines, "\n") + "\n"))
	enginetest.Must(t, err)
	ts := startServer(t, Config{Auth: &auth.Authenticator{Users: users, Realm: "test"}})

	// as announces path as user, answering the server's challenge.
	as := func(user, path string) (*rtspConn, *auth.Client, *rtsp.Response) {
		c := dial(t, ts.addr)
		resp := c.announce(ts.url(path), "application/sdp", jpegSDP)
		if resp.StatusCode != 401 {
			t.Fatalf("ANNOUNCE without credentials: %d, want 401", resp.StatusCode)
		}
		ac := &auth.Client{User: user, Password: "pw"}
		_, err := ac.Update(resp.Header.Values("WWW-Authenticate"), false)
		enginetest.Must(t, err)
		return c, ac, c.announce(ts.url(path), "application/sdp", jpegSDP, "Authorization: "+ac.Authorize("ANNOUNCE", ts.url(path)))
	}
	if _, _, resp := as("viewer", "cams/1"); resp.StatusCode != 403 || !strings.Contains(resp.Reason, "publish") {
		t.Fatalf("a user without the publish right: %d %q, want 403", resp.StatusCode, resp.Reason)
	}
	if _, _, resp := as("cam", "live/1"); resp.StatusCode != 403 {
		t.Fatalf("a publisher outside its paths: %d %q, want 403", resp.StatusCode, resp.Reason)
	}
	c, ac, resp := as("cam", "cams/1")
	if resp.StatusCode != 200 {
		t.Fatalf("a publisher on its path: %d %q", resp.StatusCode, resp.Reason)
	}
	setupURL := ts.url("cams/1") + "/streamid=0"
	resp = c.do("SETUP", setupURL, "Transport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record", "Authorization: "+ac.Authorize("SETUP", setupURL))
	if resp.StatusCode != 200 {
		t.Fatalf("SETUP: %d %q", resp.StatusCode, resp.Reason)
	}
	session, _, _ := strings.Cut(resp.Header.Get("Session"), ";")
	if resp := c.do("RECORD", ts.url("cams/1"), "Session: "+session, "Authorization: "+ac.Authorize("RECORD", ts.url("cams/1"))); resp.StatusCode != 200 {
		t.Fatalf("RECORD: %d %q", resp.StatusCode, resp.Reason)
	}
}

// TestPublisherPauseRecord: PAUSE stops the intake (Recording → Ready),
// RECORD resumes it, and the viewer gets the frames sent after it.
func TestPublisherPauseRecord(t *testing.T) {
	ts := startServer(t, Config{})
	pub := startPublisher(t, ts, "live/cam1")
	opened := make(chan struct{})
	go func() { pub.sendFrames(0, 3, 64, 48); close(opened) }()
	_, col := watchPath(t, ts, "live/cam1")
	<-opened
	if resp := pub.c.do("PAUSE", pub.url, "Session: "+pub.session); resp.StatusCode != 200 {
		t.Fatalf("PAUSE: %d %s", resp.StatusCode, resp.Reason)
	}
	if resp := pub.c.do("PLAY", pub.url, "Session: "+pub.session); resp.StatusCode != 455 {
		t.Fatalf("PLAY on a publisher's session: %d, want 455", resp.StatusCode)
	}
	if resp := pub.c.do("RECORD", pub.url, "Session: "+pub.session); resp.StatusCode != 200 {
		t.Fatalf("RECORD after PAUSE: %d %s", resp.StatusCode, resp.Reason)
	}
	n := col.Count()
	pub.sendFrames(20, 10, 64, 48)
	col.WaitFrames(t, n+5, 5*time.Second)
	if resp := pub.c.do("TEARDOWN", pub.url, "Session: "+pub.session); resp.StatusCode != 200 {
		t.Fatalf("TEARDOWN: %d %s", resp.StatusCode, resp.Reason)
	}
}

// TestPublisherByeEndsIt: a publisher's RTCP BYE ends its session (the
// path lingers, then its viewers see the end).
func TestPublisherByeEndsIt(t *testing.T) {
	ts := startServer(t, Config{LiveLinger: 200 * time.Millisecond})
	pub := startPublisher(t, ts, "live/cam1")
	opened := make(chan struct{})
	go func() { pub.sendFrames(0, 3, 64, 48); close(opened) }()
	viewer, _ := watchPath(t, ts, "live/cam1")
	<-opened
	bye, err := rtcp.Marshal([]rtcp.Packet{
		&rtcp.ReceiverReport{SSRC: 0x1234},
		&rtcp.Goodbye{Sources: []uint32{0x1234}},
	})
	enginetest.Must(t, err)
	if _, err := pub.c.nc.Write(rtsp.AppendInterleaved(nil, 1, bye)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return ts.srv.Sessions() == 1 }) // the viewer's
	select {
	case <-viewer.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the viewer never saw the end after the publisher's BYE and the linger")
	}
}

// TestPublisherReapedBeforeRecord: a publisher that announces and sets up
// but never records is reaped by the session timeout like any session,
// freeing its place and its path.
func TestPublisherReapedBeforeRecord(t *testing.T) {
	ts := startServer(t, Config{SessionTimeout: 300 * time.Millisecond})
	c := dial(t, ts.addr)
	if resp := c.announce(ts.url("live/cam1"), "application/sdp", jpegSDP); resp.StatusCode != 200 {
		t.Fatalf("ANNOUNCE: %d", resp.StatusCode)
	}
	if resp := c.do("SETUP", ts.url("live/cam1")+"/streamid=0", "Transport: RTP/AVP;unicast;client_port=40000-40001;mode=record"); resp.StatusCode != 200 {
		t.Fatalf("SETUP over UDP: %d %s", resp.StatusCode, resp.Reason)
	} else if tr := resp.Header.Get("Transport"); !strings.Contains(tr, "server_port=") {
		t.Fatalf("SETUP answer without server_port: %q", tr)
	}
	waitFor(t, func() bool { return ts.srv.Sessions() == 0 })
	startPublisher(t, ts, "live/cam1") // the path is free again
}

// TestPublisherBadJPEGClosed: RTP of the announced payload type whose
// RFC 2435 headers are nonsense makes no frame: the publisher is ended
// after LiveTimeout, its connection closed, while another publisher on
// another path goes on undisturbed.
func TestPublisherBadJPEGClosed(t *testing.T) {
	ts := startServer(t, Config{LiveTimeout: 500 * time.Millisecond})
	good := startPublisher(t, ts, "live/good")
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			good.sendFrames(i, 1, 64, 48)
		}
	}()
	_, col := watchPath(t, ts, "live/good")
	bad := startPublisher(t, ts, "live/bad")
	for i := range 100 {
		pk := bad.packets(enginetest.JPEG(t, 64, 48, i))[0]
		for k := 12; k < len(pk); k++ {
			pk[k] = byte(i * k) // type, Q, size and data all garbage
		}
		if bad.send(pk) != nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !bad.c.closed() {
		t.Fatal("a publisher sending no decodable frame keeps its connection")
	}
	n := col.Count()
	col.WaitFrames(t, n+5, 5*time.Second)
}

// TestPublisherRTCP: the server reads the publisher's Sender Reports and
// sends Receiver Reports back on the RTCP channel: for the publisher's
// SSRC, echoing the last SR's NTP time (LSR), so the publisher can work
// out the round trip (RFC 3550 §6.4.1).
func TestPublisherRTCP(t *testing.T) {
	ts := startServer(t, Config{})
	pub := startPublisher(t, ts, "live/cam1")
	const ntp = uint64(0x0102030405060708)
	sr, err := rtcp.Marshal([]rtcp.Packet{&rtcp.SenderReport{SSRC: 0x1234, NTPTime: ntp, RTPTime: 0, PacketCount: 1, OctetCount: 100}})
	enginetest.Must(t, err)
	pub.sendFrames(0, 2, 64, 48)
	if _, err := pub.c.nc.Write(rtsp.AppendInterleaved(nil, 1, sr)); err != nil {
		t.Fatal(err)
	}
	go pub.sendFrames(2, 100, 64, 48)
	_ = pub.c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		msg, err := pub.c.r.ReadMessage()
		if err != nil {
			t.Fatalf("no Receiver Report: %v", err)
		}
		il, ok := msg.(*rtsp.Interleaved)
		if !ok || il.Channel != 1 {
			continue
		}
		pkts, err := rtcp.Unmarshal(il.Data)
		enginetest.Must(t, err)
		for _, p := range pkts {
			rr, ok := p.(*rtcp.ReceiverReport)
			if !ok || len(rr.Reports) == 0 {
				continue
			}
			r := rr.Reports[0]
			if r.SSRC != 0x1234 {
				t.Fatalf("report about SSRC %x, the publisher's is 1234", r.SSRC)
			}
			if r.LastSenderReport == 0 {
				continue // sent before the SR was read
			}
			if want := uint32(ntp >> 16 & 0xFFFFFFFF); r.LastSenderReport != want {
				t.Fatalf("LSR %x, want %x (the middle of the SR's NTP time)", r.LastSenderReport, want)
			}
			return
		}
	}
}
