package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"github.com/pion/rtcp"
	"golang.org/x/net/ipv4"
)

// A live server needs a publisher: one per server, for all its steps.
// "ours" (the default) is the publisher below, inside rtspbench, which
// knows when it sent each frame (added latency, latency.go); "ffmpeg" is
// ffmpeg's RTSP muxer, copying the same file (no latency figure).

// publisher is a running publisher of a live path.
type publisher interface {
	// clock is the send log for added latency; nil when not known.
	clock() *frameClock
	stop()
}

// startPublisher publishes m to url with the named publisher.
func startPublisher(kind, url string, m mediaFile, logDir string) (publisher, error) {
	switch kind {
	case "ours":
		return startBenchPublisher(url, m)
	case "ffmpeg":
		return startFFmpegPublisher(url, m, logDir)
	}
	return nil, fmt.Errorf("unknown publisher %q (ours, ffmpeg)", kind)
}

// publishMTU is the publisher's largest RTP packet, as the servers'.
const publishMTU = 1400

// benchPublisher sends the file's frames over RTSP/UDP: ANNOUNCE with
// one MJPEG track, SETUP mode=record to a port pair of its own, RECORD,
// then frame n (looping) at start + n/fps, packetized by our RFC 2435
// packetizer as the raw sender's, an RTCP sender report every 2 s (as a
// camera or ffmpeg sends: a server may read its NTP↔RTP mapping), and
// OPTIONS every 15 s to keep the session.
type benchPublisher struct {
	s      *rtspSession
	frames [][][]byte
	fc     *frameClock
	done   chan struct{}
	ended  chan struct{}
}

func (p *benchPublisher) clock() *frameClock { return p.fc }

func startBenchPublisher(url string, m mediaFile) (*benchPublisher, error) {
	frames, err := rawFrames(m.path, publishMTU)
	if err != nil {
		return nil, err
	}
	if len(frames) == 0 {
		return nil, fmt.Errorf("%s: no frames", m.path)
	}
	s, err := dialSession(url, 5*time.Second)
	if err != nil {
		return nil, err
	}
	s.rtp, s.rtcp, err = udpPair("127.0.0.1")
	if err != nil {
		s.close()
		return nil, err
	}
	// The servers' receiver reports are never read.
	_ = s.rtcp.SetReadBuffer(4096)
	dst, rtcpDst, err := s.record(publishSDP(m.fps))
	if err != nil {
		s.close()
		return nil, fmt.Errorf("publisher: %w", err)
	}
	p := &benchPublisher{s: s, frames: frames, fc: newFrameClock(frames), done: make(chan struct{}), ended: make(chan struct{})}
	go p.run(dst, rtcpDst, m.fps)
	return p, nil
}

// publishSDP is the ANNOUNCE body: one MJPEG track (static payload type
// 26), its frame rate, its control URL below the path.
func publishSDP(fps float64) string {
	return "v=0\r\n" +
		"o=- 0 0 IN IP4 127.0.0.1\r\n" +
		"s=rtspbench\r\n" +
		"c=IN IP4 127.0.0.1\r\n" +
		"t=0 0\r\n" +
		"m=video 0 RTP/AVP 26\r\n" +
		"a=rtpmap:26 JPEG/90000\r\n" +
		"a=framerate:" + fmtFPS(fps) + "\r\n" +
		"a=control:trackID=0\r\n"
}

// serverPortRE finds the server's RTP and RTCP ports in a SETUP answer's
// Transport (RTCP is RTP's + 1 when not given).
var serverPortRE = regexp.MustCompile(`(?i)server_port=(\d+)(?:-(\d+))?`)

// record announces sdp and sets up its track for recording over UDP,
// from the session's socket pair; it returns where to send RTP and RTCP.
func (s *rtspSession) record(sdp string) (rtpDst, rtcpDst *net.UDPAddr, err error) {
	resp, err := s.doBody("ANNOUNCE", s.url, sdp, "Content-Type: application/sdp")
	if err != nil {
		return nil, nil, fmt.Errorf("ANNOUNCE: %w", err)
	}
	if resp.code != 200 {
		return nil, nil, fmt.Errorf("ANNOUNCE: status %d", resp.code)
	}
	rtpPort := s.rtp.LocalAddr().(*net.UDPAddr).Port
	resp, err = s.do("SETUP", s.url+"/trackID=0",
		fmt.Sprintf("Transport: RTP/AVP;unicast;client_port=%d-%d;mode=record", rtpPort, rtpPort+1))
	if err != nil {
		return nil, nil, fmt.Errorf("SETUP: %w", err)
	}
	if resp.code != 200 {
		return nil, nil, fmt.Errorf("SETUP: status %d", resp.code)
	}
	m := serverPortRE.FindStringSubmatch(resp.header.Get("Transport"))
	if m == nil {
		return nil, nil, fmt.Errorf("SETUP: no server_port in %q", resp.header.Get("Transport"))
	}
	port, _ := strconv.Atoi(m[1])
	rtcpPort := port + 1
	if m[2] != "" {
		rtcpPort, _ = strconv.Atoi(m[2])
	}
	s.id = sessionID(resp.header.Get("Session"))
	resp, err = s.do("RECORD", s.url, "Range: npt=0.000-")
	if err != nil {
		return nil, nil, fmt.Errorf("RECORD: %w", err)
	}
	if resp.code != 200 {
		return nil, nil, fmt.Errorf("RECORD: status %d", resp.code)
	}
	lo := net.IPv4(127, 0, 0, 1)
	return &net.UDPAddr{IP: lo, Port: port}, &net.UDPAddr{IP: lo, Port: rtcpPort}, nil
}

// run sends until stop: all of a frame's packets but the last in one
// sendmmsg, then the last (the marker) alone, its time noted just before.
func (p *benchPublisher) run(dst, rtcpDst *net.UDPAddr, fps float64) {
	defer close(p.ended)
	pc := ipv4.NewPacketConn(p.s.rtp)
	msgs := make([]ipv4.Message, 0, 256)
	ssrc := rand.Uint32()
	seq := uint16(rand.Uint32())
	tsBase := rand.Uint32()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	var packets, octets uint32 // sent, for the sender reports
	var lastSR time.Time
	start := time.Now()
	for n := 0; ; n++ {
		due := start.Add(time.Duration(float64(n) * float64(time.Second) / fps))
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-p.done:
				return
			case <-keepalive.C:
				go func() { _ = p.s.keepalive() }()
				<-timer.C
			case <-timer.C:
			}
		}
		pkts := p.frames[n%len(p.frames)]
		ts := tsBase + uint32(float64(n)*90000/fps)
		msgs = msgs[:0]
		for _, b := range pkts {
			stampRTP(b, seq, ts, ssrc)
			seq++
			msgs = append(msgs, ipv4.Message{Buffers: [][]byte{b}, Addr: dst})
		}
		for sent := 0; sent < len(msgs)-1; {
			k, err := pc.WriteBatch(msgs[sent:len(msgs)-1], 0)
			if err != nil {
				if isClosed(err) {
					return
				}
				break // this frame is lost; the next one goes on time
			}
			sent += k
		}
		now := time.Now()
		p.fc.sentFrame(n, now)
		if _, err := p.s.rtp.WriteToUDP(pkts[len(pkts)-1], dst); err != nil && isClosed(err) {
			return
		}
		for _, b := range pkts {
			packets, octets = packets+1, octets+uint32(len(b)-12)
		}
		if now.Sub(lastSR) >= 2*time.Second {
			lastSR = now
			sr := rtcp.SenderReport{SSRC: ssrc, NTPTime: ntpTime(now), RTPTime: ts, PacketCount: packets, OctetCount: octets}
			if b, err := sr.Marshal(); err == nil {
				_, _ = p.s.rtcp.WriteToUDP(b, rtcpDst)
			}
		}
	}
}

// ntpTime is t as a 64-bit NTP timestamp (RFC 3550 §4): seconds since
// 1900 in the high 32 bits, the fraction in the low.
func ntpTime(t time.Time) uint64 {
	const unixToNTP = 2208988800
	secs := uint64(t.Unix()) + unixToNTP
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return secs<<32 | frac
}

// stampRTP writes sequence number, timestamp and SSRC into an RTP header.
func stampRTP(b []byte, seq uint16, ts, ssrc uint32) {
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
}

func isClosed(err error) bool { return errors.Is(err, net.ErrClosed) }

func (p *benchPublisher) stop() {
	close(p.done)
	<-p.ended
	p.s.close() // TEARDOWN
}

// ffmpegPublisher is ffmpeg copying the file to the path over RTSP/UDP,
// in real time, looped.
type ffmpegPublisher struct {
	cmd *exec.Cmd
	log *os.File
}

func (p *ffmpegPublisher) clock() *frameClock { return nil }

func startFFmpegPublisher(url string, m mediaFile, logDir string) (*ffmpegPublisher, error) {
	logf, err := os.CreateTemp(logDir, "ffmpeg-publisher-*.log")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("ffmpeg", ffmpegPublishArgs(url, m)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("ffmpeg: %w", err)
	}
	return &ffmpegPublisher{cmd: cmd, log: logf}, nil
}

// ffmpegPublishArgs: the raw MJPEG file read at its rate (-framerate:
// the mjpeg demuxer assumes 25), looped, copied (it is 4:2:0 with the
// standard tables, as ffmpeg's RTP muxer needs) into 1400-byte packets.
func ffmpegPublishArgs(url string, m mediaFile) []string {
	return []string{"-nostdin", "-v", "error", "-re", "-stream_loop", "-1", "-f", "mjpeg", "-framerate", fmtFPS(m.fps),
		"-i", m.path, "-c:v", "copy", "-f", "rtsp", "-rtsp_transport", "udp", "-pkt_size", strconv.Itoa(publishMTU), url}
}

func (p *ffmpegPublisher) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	p.log.Close()
}
