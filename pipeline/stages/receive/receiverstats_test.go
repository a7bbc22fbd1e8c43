package receive

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/pion/rtcp"

	"github.com/actorstream/actorstream/pipeline"
)

// TestReceiverStatsJitter checks RFC 3550 A.8 against a hand computation.
// Frames every 40 ms (3600 ticks) arriving at 0, 40, 90 and 120 ms:
//
//	arrival (ticks)  0     3600  8100  10800
//	transit          0     0     900   0
//	|D|                    0     900   900
//	J                0     0     56.25 56.25 + (900-56.25)/16 = 108.984375
func TestReceiverStatsJitter(t *testing.T) {
	var s ReceiverStats
	arrivals := []time.Duration{0, 40 * time.Millisecond, 90 * time.Millisecond, 120 * time.Millisecond}
	for i, a := range arrivals {
		s.Received(uint16(i+1), uint32(i)*3600, 9, rxEpoch.Add(a), ArrivalInOrder)
	}
	const want = 108.984375
	if rr := s.Report(rxEpoch); rr.Jitter != 108 {
		t.Errorf("RR jitter %d, want 108", rr.Jitter)
	}
	if ms := s.Snapshot().JitterMS; math.Abs(ms-want/90) > 1e-9 {
		t.Errorf("jitter %v ms, want %v", ms, want/90)
	}
}

// TestReceiverStatsTimestampWrap: a timestamp wrap between two regularly
// spaced packets is not a jump in transit time.
func TestReceiverStatsTimestampWrap(t *testing.T) {
	var s ReceiverStats
	for i := range 10 {
		s.Received(uint16(i), 0xFFFF0000+uint32(i)*3600, 1, rxEpoch.Add(time.Duration(i)*40*time.Millisecond), ArrivalInOrder)
	}
	if j := s.Snapshot().JitterMS; j != 0 {
		t.Errorf("jitter %v ms across a timestamp wrap, want 0", j)
	}
}

func TestReceiverStatsReport(t *testing.T) {
	var s ReceiverStats
	if rr := s.Report(rxEpoch); rr != (rtcp.ReceptionReport{}) {
		t.Errorf("report before any packet: %+v", rr)
	}
	// 1 of 4 lost: 1, 2, 4 (3 never arrives).
	for _, seq := range []uint16{1, 2, 4} {
		s.Received(seq, 0, 0x5EED, rxEpoch, ArrivalInOrder)
	}
	rr := s.Report(rxEpoch)
	if rr.FractionLost != 64 || rr.TotalLost != 1 || rr.LastSequenceNumber != 4 || rr.SSRC != 0x5EED {
		t.Errorf("after 1 of 4 lost: %+v, want fraction 64, total 1, highest 4", rr)
	}
	if rr.LastSenderReport != 0 || rr.Delay != 0 {
		t.Errorf("LSR/DLSR %d/%d before any SR", rr.LastSenderReport, rr.Delay)
	}
	// A new interval without loss: the fraction is per interval, the
	// total is cumulative.
	for _, seq := range []uint16{5, 6, 7, 8} {
		s.Received(seq, 0, 0x5EED, rxEpoch, ArrivalInOrder)
	}
	if rr := s.Report(rxEpoch); rr.FractionLost != 0 || rr.TotalLost != 1 || rr.LastSequenceNumber != 8 {
		t.Errorf("second interval: %+v", rr)
	}

	// An SR: LSR is its middle 32 bits, DLSR the delay in 1/65536 s.
	srAt := rxEpoch.Add(time.Second)
	s.SenderReport(0x5EED, 0xAAAABBBB_CCCCDDDD, 1000, srAt)
	rr = s.Report(srAt.Add(1500 * time.Millisecond))
	if rr.LastSenderReport != 0xBBBBCCCC {
		t.Errorf("LSR %#x, want 0xBBBBCCCC", rr.LastSenderReport)
	}
	if rr.Delay != 98304 {
		t.Errorf("DLSR %d, want 98304 (1.5 s)", rr.Delay)
	}
}

// TestReceiverStatsDuplicatesAndClamp: duplicates make the cumulative loss
// negative; it is sent as 24-bit two's complement and clamped (A.3).
func TestReceiverStatsDuplicatesAndClamp(t *testing.T) {
	var s ReceiverStats
	s.Received(1, 0, 1, rxEpoch, ArrivalInOrder)
	s.Received(2, 0, 1, rxEpoch, ArrivalInOrder)
	s.Received(2, 0, 1, rxEpoch, ArrivalDuplicate)
	s.Received(2, 0, 1, rxEpoch, ArrivalDuplicate)
	if snap := s.Snapshot(); snap.PacketsLost != -2 || snap.Duplicates != 2 || snap.LossPercent != 0 {
		t.Errorf("snapshot %+v, want lost -2, 2 duplicates", snap)
	}
	rr := s.Report(rxEpoch)
	if rr.TotalLost != 0xFFFFFE || rr.FractionLost != 0 {
		t.Errorf("TotalLost %#x fraction %d, want 0xFFFFFE and 0", rr.TotalLost, rr.FractionLost)
	}
	if _, err := ReceiverReport(1, "me", rr); err != nil {
		t.Errorf("negative loss does not marshal: %v", err)
	}

	s.received = 1 << 30 // far more duplicates than 24 bits can say
	if rr := s.Report(rxEpoch); rr.TotalLost != 0x800000 {
		t.Errorf("clamped negative loss %#x, want 0x800000", rr.TotalLost)
	}
	s.received = 0
	s.cycles = 1 << 30
	if rr := s.Report(rxEpoch); rr.TotalLost != 0x7FFFFF {
		t.Errorf("clamped loss %#x, want 0x7FFFFF", rr.TotalLost)
	}
}

func TestReceiverStatsSequenceWrap(t *testing.T) {
	var s ReceiverStats
	for _, seq := range []uint16{65534, 65535, 0, 1} {
		s.Received(seq, 0, 1, rxEpoch, ArrivalInOrder)
	}
	if snap := s.Snapshot(); snap.HighestSeq != 1<<16+1 || snap.PacketsLost != 0 || snap.PacketsReceived != 4 {
		t.Errorf("across the wrap: %+v", snap)
	}
}

func TestReceiverStatsWallClock(t *testing.T) {
	var s ReceiverStats
	if _, ok := s.WallClock(0); ok {
		t.Error("WallClock before any SR")
	}
	wall := time.Date(2024, 5, 1, 12, 0, 0, 250_000_000, time.UTC)
	s.SenderReport(7, pipeline.NTPTime(wall), 100, rxEpoch)
	tests := []struct {
		ts   uint32
		want time.Time
	}{
		{100, wall},
		{100 + 90000, wall.Add(time.Second)},
		{1<<32 + 100 - 9000, wall.Add(-100 * time.Millisecond)}, // wraps below zero
	}
	for _, tt := range tests {
		got, ok := s.WallClock(tt.ts)
		if d := got.Sub(tt.want); !ok || d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("WallClock(%d) = %v, %v; want %v", tt.ts, got, ok, tt.want)
		}
	}
}

func TestReceiverReportMarshal(t *testing.T) {
	in := rtcp.ReceptionReport{SSRC: 42, FractionLost: 64, TotalLost: 3, LastSequenceNumber: 70000,
		Jitter: 108, LastSenderReport: 0xBBBBCCCC, Delay: 98304}
	b, err := ReceiverReport(0xC11E, "client@host", in)
	if err != nil {
		t.Fatal(err)
	}
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkts) != 2 {
		t.Fatalf("%d packets, want RR + SDES", len(pkts))
	}
	rr, ok := pkts[0].(*rtcp.ReceiverReport)
	if !ok || rr.SSRC != 0xC11E || len(rr.Reports) != 1 || rr.Reports[0] != in {
		t.Errorf("RR = %+v", pkts[0])
	}
	sdes, ok := pkts[1].(*rtcp.SourceDescription)
	if !ok || len(sdes.Chunks) != 1 || sdes.Chunks[0].Source != 0xC11E ||
		sdes.Chunks[0].Items[0].Type != rtcp.SDESCNAME || sdes.Chunks[0].Items[0].Text != "client@host" {
		t.Errorf("SDES = %+v", pkts[1])
	}
}

func TestReceiverSnapshotJSON(t *testing.T) {
	var s ReceiverStats
	for _, seq := range []uint16{1, 2, 4, 3, 3} {
		kind := ArrivalInOrder
		switch seq {
		case 3:
			kind = ArrivalReordered
		}
		s.Received(seq, 0, 5, rxEpoch, kind)
	}
	b, err := json.Marshal(s.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"packets_received", "packets_lost", "loss_percent", "duplicates", "late",
		"reordered", "jitter_ms", "highest_seq", "sender_ssrc"} {
		if _, ok := m[k]; !ok {
			t.Errorf("snapshot JSON lacks %q: %s", k, b)
		}
	}
	if m["packets_received"] != 5.0 || m["highest_seq"] != 4.0 || m["sender_ssrc"] != 5.0 || m["reordered"] != 2.0 {
		t.Errorf("snapshot JSON %s", b)
	}
}
