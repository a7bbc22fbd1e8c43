package server

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/actorstream/actorstream/internal/rtsp"
)

// TestPlayRangeRefusedWhilePlaying: a PLAY whose Range the media cannot
// satisfy, sent while playing, is answered 457 and changes nothing: the
// session still plays, its packets keep coming without a gap or a pause
// in their sequence, and a PLAY without Range then describes the next
// packet of the same stream.
func TestPlayRangeRefusedWhilePlaying(t *testing.T) {
	ts := startServer(t, Config{FPS: 25})
	url := ts.url("clip.mjpeg") // 50 frames: 2 s
	c := dial(t, ts.addr)
	rtpConn, _ := udpPair(t)
	port := rtpConn.LocalAddr().(*net.UDPAddr).Port
	r := c.do("SETUP", url+"/trackID=0", "Transport: RTP/AVP;unicast;client_port="+strconv.Itoa(port)+"-"+strconv.Itoa(port+1))
	sess, err := rtsp.ParseSession(r.Header.Get("Session"))
	if r.StatusCode != 200 || err != nil {
		t.Fatalf("SETUP: %d %v", r.StatusCode, err)
	}
	session := "Session: " + sess.ID
	if r := c.do("PLAY", url+"/", session); r.StatusCode != 200 {
		t.Fatalf("PLAY: %d", r.StatusCode)
	}
	before := readRTP(t, rtpConn, 5, time.Second)
	if r := c.do("PLAY", url+"/", session, "Range: npt=999-"); r.StatusCode != 457 {
		t.Fatalf("PLAY Range npt=999-: %d %s, want 457", r.StatusCode, r.Reason)
	}
	last := before[len(before)-1]
	lastAt := time.Now()
	for range 10 {
		p := readRTP(t, rtpConn, 1, time.Second)[0]
		now := time.Now()
		if p.SequenceNumber != last.SequenceNumber+1 || p.Timestamp-last.Timestamp != 3600 {
			t.Fatalf("after the refused seek: seq %d ts %d followed seq %d ts %d", p.SequenceNumber, p.Timestamp, last.SequenceNumber, last.Timestamp)
		}
		if gap := now.Sub(lastAt); gap > 200*time.Millisecond {
			t.Fatalf("a %s gap in the stream after the refused seek", gap)
		}
		last, lastAt = p, now
	}
	r = c.do("PLAY", url+"/", session)
	infos, err := rtsp.ParseRTPInfo(r.Header.Get("RTP-Info"))
	if r.StatusCode != 200 || err != nil || len(infos) != 1 || int16(infos[0].Seq-last.SequenceNumber) < 0 || int16(infos[0].Seq-last.SequenceNumber) > 3 {
		t.Fatalf("PLAY while playing: %d RTP-Info %q, want about seq %d", r.StatusCode, r.Header.Get("RTP-Info"), last.SequenceNumber+1)
	}
}
