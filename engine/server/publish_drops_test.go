package server

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/internal/metrics"
	"github.com/actorstream/actorstream/internal/rtsp"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
)

// TestPublisherPacketsDroppedWhileNotRecording: a TCP publisher sending
// RTP before RECORD or while paused has its packets dropped, each counted
// by reason in actorstream_publish_packets_dropped_total and logged once
// per pause; after RECORD again its frames reach viewers.
func TestPublisherPacketsDroppedWhileNotRecording(t *testing.T) {
	m := metrics.New()
	logs := &enginetest.SyncBuffer{}
	ts := startServer(t, Config{Metrics: m, Log: hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug})})
	series := func(reason string) string {
		return `actorstream_publish_packets_dropped_total{reason="` + reason + `"}`
	}
	pub := &testPublisher{t: t, c: dial(t, ts.addr), url: ts.url("live/cam1"), rtp: rtpjpeg.NewPacketizer(0x1234, 100, 1400), buf: make([]byte, 1400)}
	if resp := pub.c.announce(pub.url, "application/sdp", jpegSDP); resp.StatusCode != 200 {
		t.Fatalf("ANNOUNCE: %d", resp.StatusCode)
	}
	resp := pub.c.do("SETUP", pub.url+"/streamid=0", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record")
	if resp.StatusCode != 200 {
		t.Fatalf("SETUP: %d", resp.StatusCode)
	}
	pub.session, _, _ = strings.Cut(resp.Header.Get("Session"), ";")
	frame := pub.packets(enginetest.JPEG(t, 64, 48, 0))
	enginetest.Must(t, pub.send(frame...)) // before RECORD
	if resp := pub.c.do("RECORD", pub.url, "Session: "+pub.session); resp.StatusCode != 200 {
		t.Fatalf("RECORD: %d", resp.StatusCode)
	}
	// The connection's reader took the packets before RECORD.
	if v := scrapeValue(t, m, series(metrics.PublishBeforeRecord)); v != float64(len(frame)) {
		t.Fatalf("dropped before RECORD: %v, want %d", v, len(frame))
	}
	pub.sendFrames(1, 3, 64, 48)
	if resp := pub.c.do("PAUSE", pub.url, "Session: "+pub.session); resp.StatusCode != 200 {
		t.Fatalf("PAUSE: %d", resp.StatusCode)
	}
	paused := 0
	for i := range 3 {
		pkts := pub.packets(enginetest.JPEG(t, 64, 48, 10+i))
		enginetest.Must(t, pub.send(pkts...))
		paused += len(pkts)
	}
	if resp := pub.c.do("RECORD", pub.url, "Session: "+pub.session); resp.StatusCode != 200 {
		t.Fatalf("RECORD after PAUSE: %d", resp.StatusCode)
	}
	if v := scrapeValue(t, m, series(metrics.PublishPaused)); v != float64(paused) {
		t.Fatalf("dropped while paused: %v, want %d", v, paused)
	}
	if n := strings.Count(logs.String(), "it is not recording"); n != 2 {
		t.Errorf("logged %d times, want once before RECORD and once for the PAUSE\n%s", n, logs)
	}
	// Recording again: frames reach a viewer.
	go pub.sendFrames(20, 50, 64, 48)
	_, col := watchPath(t, ts, "live/cam1")
	col.WaitFrames(t, 3, 5*time.Second)
}

// TestPublisherUDPDatagramsDroppedBeforeRecord: over UDP, what a
// publisher sent to its server ports before RECORD waits in the kernel;
// RECORD drops and counts it rather than take it for new media.
func TestPublisherUDPDatagramsDroppedBeforeRecord(t *testing.T) {
	m := metrics.New()
	ts := startServer(t, Config{Metrics: m})
	c := dial(t, ts.addr)
	if resp := c.announce(ts.url("live/cam1"), "application/sdp", jpegSDP); resp.StatusCode != 200 {
		t.Fatalf("ANNOUNCE: %d", resp.StatusCode)
	}
	resp := c.do("SETUP", ts.url("live/cam1")+"/streamid=0", "Transport: RTP/AVP;unicast;client_port=40000-40001;mode=record")
	if resp.StatusCode != 200 {
		t.Fatalf("SETUP: %d", resp.StatusCode)
	}
	trs, err := rtsp.ParseTransports(resp.Header.Get("Transport"))
	enginetest.Must(t, err)
	session, _, _ := strings.Cut(resp.Header.Get("Session"), ";")
	uc, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: trs[0].ServerPort[0]})
	enginetest.Must(t, err)
	defer uc.Close()
	rtp := rtpjpeg.NewPacketizer(0x1234, 100, 1400)
	buf := make([]byte, 1400)
	var j rtpjpeg.JPEG
	enginetest.Must(t, rtpjpeg.ParseJPEG(enginetest.JPEG(t, 64, 48, 0), &j))
	rtp.Begin(&j, 0)
	sent := 0
	for n := rtp.Next(buf); n > 0; n = rtp.Next(buf) {
		_, err := uc.Write(buf[:n])
		enginetest.Must(t, err)
		sent++
	}
	time.Sleep(50 * time.Millisecond) // on loopback, queued long before
	if resp := c.do("RECORD", ts.url("live/cam1"), "Session: "+session); resp.StatusCode != 200 {
		t.Fatalf("RECORD: %d", resp.StatusCode)
	}
	if v := scrapeValue(t, m, `actorstream_publish_packets_dropped_total{reason="before_record"}`); v != float64(sent) {
		t.Fatalf("dropped before RECORD: %v, want the %d datagrams sent", v, sent)
	}
}
