package main

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/pion/rtp"
)

// startLive starts a -live server on loopback, as run does.
func startLive(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	rtpConn, rtcpConn, err := listenUDPPair("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	h := &handler{}
	h.server = &gortsplib.Server{
		Handler:        &liveHandler{handler: h},
		RTSPAddress:    addr,
		UDPRTPAddress:  rtpConn.LocalAddr().String(),
		UDPRTCPAddress: rtcpConn.LocalAddr().String(),
		ListenPacket:   preBound(rtpConn, rtcpConn),
		WriteQueueSize: 4096,
		MaxPacketSize:  1400,
	}
	if err := h.server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.server.Close)
	return "rtsp://" + addr + "/live/bench"
}

func mjpegDesc() *description.Session {
	return &description.Session{Medias: []*description.Media{{
		Type:    description.MediaTypeVideo,
		Formats: []format.Format{&format.MJPEG{}},
	}}}
}

func describe(t *testing.T, url string) error {
	t.Helper()
	u, err := base.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := gortsplib.Client{Scheme: u.Scheme, Host: u.Host}
	if err := c.Start2(); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _, err = c.Describe(u)
	return err
}

// TestLiveRelay: what one publisher records on the -live server reaches
// a reader over UDP byte for byte; a second publisher is refused while
// the first publishes; nothing plays before a publisher or after it left,
// and then the path can be published again.
func TestLiveRelay(t *testing.T) {
	url := startLive(t)
	if err := describe(t, url); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("DESCRIBE before publishing: %v, want 404", err)
	}

	udp := gortsplib.TransportUDP
	pub := &gortsplib.Client{Transport: &udp}
	desc := mjpegDesc()
	if err := pub.StartRecording(url, desc); err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	second := &gortsplib.Client{}
	if err := second.StartRecording(url, mjpegDesc()); err == nil || !strings.Contains(err.Error(), "455") {
		t.Errorf("second publisher: %v, want 455", err)
	}
	second.Close()

	u, _ := base.ParseURL(url)
	reader := &gortsplib.Client{Scheme: u.Scheme, Host: u.Host, Transport: &udp}
	if err := reader.Start2(); err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	rdesc, _, err := reader.Describe(u)
	if err != nil {
		t.Fatal(err)
	}
	if err := reader.SetupAll(rdesc.BaseURL, rdesc.Medias); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 100)
	reader.OnPacketRTPAny(func(_ *description.Media, _ format.Format, pkt *rtp.Packet) {
		select {
		case got <- bytes.Clone(pkt.Payload):
		default:
		}
	})
	if _, err := reader.Play(nil); err != nil {
		t.Fatal(err)
	}

	payload := append([]byte{0, 0, 0, 0, 1, 255, 80, 60}, bytes.Repeat([]byte("frame"), 100)...)
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for seq, received := uint16(0), 0; received < 5; {
		select {
		case <-tick.C:
			seq++
			pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 26, SequenceNumber: seq, Timestamp: uint32(seq) * 3000, Marker: true, SSRC: 1}, Payload: payload}
			if err := pub.WritePacketRTP(desc.Medias[0], pkt); err != nil {
				t.Fatal(err)
			}
		case p := <-got:
			if !bytes.Equal(p, payload) {
				t.Fatalf("reader got a payload of %d bytes, not the one published", len(p))
			}
			received++
		case <-deadline:
			t.Fatal("the reader got nothing of what was published")
		}
	}

	pub.Close()
	for end := time.Now().Add(5 * time.Second); ; {
		err := describe(t, url)
		if err != nil && strings.Contains(err.Error(), "404") {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("DESCRIBE after the publisher left: %v, want 404", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	again := &gortsplib.Client{Transport: &udp}
	if err := again.StartRecording(url, mjpegDesc()); err != nil {
		t.Errorf("publishing again after the first publisher left: %v", err)
	}
	again.Close()
}
