package send

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/pion/rtcp"

	"github.com/actorstream/actorstream/pipeline"
)

// svRTPPacket returns an RTP packet of size bytes (header included) with
// sequence number seq; only what SendStats reads is filled in.
func svRTPPacket(seq uint16, size int) []byte {
	p := make([]byte, size)
	p[0] = 0x80
	binary.BigEndian.PutUint16(p[2:], seq)
	return p
}

// TestNTPTime: NTP counts seconds from 1900 in the high word and 2^-32 s
// fractions in the low one.
func TestNTPTime(t *testing.T) {
	tests := []struct {
		t    time.Time
		want uint64
	}{
		{time.Unix(0, 0), 2208988800 << 32},
		{time.Unix(0, 500_000_000), 2208988800<<32 | 1<<31},
		{time.Unix(1, 250_000_000), 2208988801<<32 | 1<<30},
		{time.Unix(0, 999_999_999), 2208988800<<32 | 0xFFFFFFFB},          // floor(0.999999999 × 2^32)
		{time.Date(2036, 2, 7, 6, 28, 15, 0, time.UTC), 0xFFFFFFFF << 32}, // the last second of NTP era 0
	}
	for _, tt := range tests {
		if got := pipeline.NTPTime(tt.t); got != tt.want {
			t.Errorf("pipeline.NTPTime(%v) = %#x, want %#x", tt.t, got, tt.want)
		}
	}
}

// TestSendStats: counts are of packets and of payload octets (RFC 3550
// §6.4.1: the 12-byte header is not payload); the RTP clock is extrapolated
// at 90 kHz from the last packet, wrapping like RTP time, and without
// overflow after a long pause.
func TestSendStats(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	var s SendStats
	if ts := s.RTPTimeAt(t0); ts != 0 {
		t.Errorf("RTPTimeAt before any packet = %d, want 0", ts)
	}
	if _, ok := s.LastSeq(); ok {
		t.Error("LastSeq reports a packet before any was sent")
	}
	s.Sent(svRTPPacket(10, 1400), 1000, t0.Add(-time.Second))
	s.Sent(svRTPPacket(11, 12), 5000, t0)        // header only: no payload
	s.Sent(svRTPPacket(12, 112), 0xFFFFFF00, t0) // the last one counts for the clock
	if got := s.Packets.Load(); got != 3 {
		t.Errorf("Packets = %d, want 3", got)
	}
	if got := s.Octets.Load(); got != 1388+0+100 {
		t.Errorf("Octets = %d, want %d", got, 1388+100)
	}
	if seq, ok := s.LastSeq(); !ok || seq != 12 {
		t.Errorf("LastSeq = %d, %v; want 12, true", seq, ok)
	}
	tests := []struct {
		at   time.Duration
		want uint32
	}{
		{0, 0xFFFFFF00},
		{40 * time.Millisecond, 0xFFFFFF00 + 3600 - 1<<32},
		{time.Second, 0xFFFFFF00 + 90000 - 1<<32},
		{-time.Second / 90000 * 256, 0xFFFFFF00 - 256 + 1}, // truncation towards the last packet
		// 30 hours paused: elapsed × 90000 no longer fits in int64 ns.
		{30 * time.Hour, uint32((0xFFFFFF00 + uint64(30*3600)*90000) % (1 << 32))},
	}
	for _, tt := range tests {
		if got := s.RTPTimeAt(t0.Add(tt.at)); got != tt.want {
			t.Errorf("RTPTimeAt(+%v) = %d, want %d", tt.at, got, tt.want)
		}
	}
}

// TestSenderReport: the compound packet parses with pion/rtcp as SR +
// SDES CNAME carrying the SSRC, the counts, the NTP time of now and the
// RTP time extrapolated to now.
func TestSenderReport(t *testing.T) {
	const ssrc = 0x11223344
	t0 := time.Unix(1_700_000_000, 0)
	var s SendStats
	for i := range 5 {
		s.Sent(svRTPPacket(uint16(i), 1012), 90000, t0)
	}
	now := t0.Add(500 * time.Millisecond)

	for _, tt := range []struct {
		name  string
		build func(uint32, string, *SendStats, time.Time) ([]byte, error)
		bye   bool
	}{
		{"SenderReport", SenderReport, false},
		{"Goodbye", Goodbye, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := tt.build(ssrc, "actorstream@test", &s, now)
			if err != nil {
				t.Fatal(err)
			}
			pkts, err := rtcp.Unmarshal(raw)
			if err != nil {
				t.Fatalf("does not parse: %v", err)
			}
			want := 2
			if tt.bye {
				want = 3
			}
			if len(pkts) != want {
				t.Fatalf("%d RTCP packets, want %d", len(pkts), want)
			}
			sr, ok := pkts[0].(*rtcp.SenderReport)
			if !ok {
				t.Fatalf("first packet is %T, want an SR (RFC 3550 §6.1)", pkts[0])
			}
			if sr.SSRC != ssrc || sr.PacketCount != 5 || sr.OctetCount != 5000 {
				t.Errorf("SR ssrc %#x packets %d octets %d", sr.SSRC, sr.PacketCount, sr.OctetCount)
			}
			if sr.NTPTime != pipeline.NTPTime(now) {
				t.Errorf("SR NTP time %#x, want %#x", sr.NTPTime, pipeline.NTPTime(now))
			}
			if want := uint32(90000 + 45000); sr.RTPTime != want {
				t.Errorf("SR RTP time %d, want %d (half a second after the last packet)", sr.RTPTime, want)
			}
			sdes, ok := pkts[1].(*rtcp.SourceDescription)
			if !ok || len(sdes.Chunks) != 1 || sdes.Chunks[0].Source != ssrc ||
				len(sdes.Chunks[0].Items) != 1 || sdes.Chunks[0].Items[0].Type != rtcp.SDESCNAME ||
				sdes.Chunks[0].Items[0].Text != "actorstream@test" {
				t.Errorf("second packet %+v, want SDES CNAME for the SSRC", pkts[1])
			}
			if tt.bye {
				bye, ok := pkts[2].(*rtcp.Goodbye)
				if !ok || len(bye.Sources) != 1 || bye.Sources[0] != ssrc {
					t.Errorf("third packet %+v, want BYE for the SSRC", pkts[2])
				}
			}
		})
	}
}
