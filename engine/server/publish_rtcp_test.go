package server

import (
	"testing"
	"time"

	"github.com/pion/rtcp"

	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/internal/rtsp"
	"github.com/actorstream/actorstream/pipeline"
)

// TestPublisherReceiverReportFields checks a Receiver Report the server
// sends a publisher, on the wire, field by field (RFC 3550 §6.4.1): the
// cumulative loss counts the one packet the publisher never sent, the
// fraction lost of the first report covers it, the jitter reflects
// frames whose arrival strays 40 ms from their RTP timestamps, LSR is the
// middle of the publisher's SR's NTP time and DLSR the time between that
// SR's arrival and the report, in 1/65536 s.
func TestPublisherReceiverReportFields(t *testing.T) {
	ts := startServer(t, Config{})
	pub := startPublisher(t, ts, "live/cam1")
	frame := func(i int) []byte {
		pkts := pub.packets(enginetest.JPEG(t, 64, 48, i))
		if len(pkts) != 1 {
			t.Fatalf("a 64x48 frame in %d packets; the test wants one", len(pkts))
		}
		return pkts[0]
	}
	for i := range 3 {
		enginetest.Must(t, pub.send(frame(i)))
		time.Sleep(40 * time.Millisecond)
	}
	frame(3) // never sent: one packet lost
	srNTP := pipeline.NTPTime(time.Now())
	sr, err := rtcp.Marshal([]rtcp.Packet{&rtcp.SenderReport{SSRC: 0x1234, NTPTime: srNTP, RTPTime: pub.ts, PacketCount: 3, OctetCount: 3000}})
	enginetest.Must(t, err)
	srSent := time.Now()
	_, err = pub.c.nc.Write(rtsp.AppendInterleaved(nil, 1, sr))
	enginetest.Must(t, err)

	// Then frames 40 ms apart by their timestamps but sent 0 and 80 ms
	// apart in turn: each arrives 40 ms off (3600 ticks), and the
	// jitter (J += (|D| - J)/16) climbs towards 3600.
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for i := 4; i < 400; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if pub.send(frame(i)) != nil {
				return
			}
			if i%2 == 0 {
				time.Sleep(80 * time.Millisecond)
			}
		}
	}()
	defer func() { close(stop); <-stopped }()

	alternating := time.Now()
	_ = pub.c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	firstFraction := -1
	for {
		msg, err := pub.c.r.ReadMessage()
		if err != nil {
			t.Fatalf("no Receiver Report after the SR within 10 s: %v", err)
		}
		read := time.Now()
		il, ok := msg.(*rtsp.Interleaved)
		if !ok || il.Channel != 1 {
			continue
		}
		pkts, err := rtcp.Unmarshal(il.Data)
		enginetest.Must(t, err)
		rr, ok := pkts[0].(*rtcp.ReceiverReport)
		if !ok || len(rr.Reports) != 1 {
			t.Fatalf("RTCP to the publisher starts with %T, want a Receiver Report with one block", pkts[0])
		}
		r := rr.Reports[0]
		if firstFraction < 0 {
			firstFraction = int(r.FractionLost)
		}
		if r.LastSenderReport == 0 || read.Sub(alternating) < 1500*time.Millisecond {
			continue // before the SR was read, or too early for the jitter
		}
		if r.SSRC != 0x1234 {
			t.Errorf("report about SSRC %x, the publisher's is 1234", r.SSRC)
		}
		if want := uint32(srNTP >> 16); r.LastSenderReport != want {
			t.Errorf("LSR %x, want %x", r.LastSenderReport, want)
		}
		dlsr := time.Duration(r.Delay) * time.Second / 65536
		if elapsed := read.Sub(srSent); dlsr > elapsed || dlsr < elapsed-300*time.Millisecond {
			t.Errorf("DLSR %v, but the report was read %v after the SR was sent", dlsr, elapsed)
		}
		if r.TotalLost != 1 {
			t.Errorf("cumulative loss %d, want 1", r.TotalLost)
		}
		if firstFraction <= 0 {
			t.Errorf("the first report's fraction lost is %d/256, want the lost packet in it", firstFraction)
		}
		if r.Jitter < 1800 || r.Jitter > 5400 {
			t.Errorf("jitter %d ticks (%.1f ms), want about 3600 (40 ms)", r.Jitter, float64(r.Jitter)/90)
		}
		return
	}
}
