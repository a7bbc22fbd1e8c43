package receive

import (
	"sync"
	"time"

	"github.com/pion/rtcp"

	"github.com/actorstream/actorstream/pipeline"
)

// Sequence-number limits of RFC 3550 Appendix A.1: a jump forward of
// maxDropout or more, or backward by more than maxMisorder, is not believed
// until the next packet confirms it (the sender restarted).
const (
	maxDropout  = 3000
	maxMisorder = 100
	seqMod      = 1 << 16
)

// Arrival says how a received RTP packet fitted into the sequence, as the
// jitter check saw it.
type Arrival uint8

const (
	ArrivalInOrder   Arrival = iota // the next packet expected, or one beyond a gap
	ArrivalReordered                // filled a gap in time to be used
	ArrivalDuplicate                // a copy of a packet already held or delivered
	ArrivalLate                     // its slot had already been given up on
)

// ReceiverStats is the receiver side of RFC 3550 §6.4: what is needed to
// fill reception report blocks, plus counters for the player's UI. The
// jitter check updates it once per packet; the RTCP sender and the UI read
// it from other goroutines, hence the mutex (uncontended in practice).
type ReceiverStats struct {
	mu sync.Mutex
	receiverState
}

// receiverState is what ReceiverStats counts (what Reset forgets).
type receiverState struct {
	started bool
	ssrc    uint32
	maxSeq  uint16
	cycles  uint32 // sequence-number wraps, times 2^16
	baseSeq uint32
	badSeq  uint32 // seqMod+1 when no restart is suspected

	received      uint64 // RFC 3550 "received": duplicates and late packets included
	expectedPrior uint64
	receivedPrior uint64

	duplicates, late, reordered uint64

	// Interarrival jitter (A.8), in RTP timestamp units.
	jitter      float64
	haveTransit bool
	transit     int32
	arrivalRef  time.Time // arrival times are counted from here at 90 kHz

	// Last Sender Report.
	haveSR bool
	lsr    uint32    // middle 32 bits of its NTP timestamp
	lsrAt  time.Time // when it arrived
	srNTP  uint64
	srRTP  uint32
	bye    bool
}

// Received accounts for one RTP packet (sequence seq, timestamp ts, from
// ssrc) that arrived at at and was classified as kind by the jitter check.
func (s *ReceiverStats) Received(seq uint16, ts, ssrc uint32, at time.Time, kind Arrival) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ssrc = ssrc
	if !s.updateSeq(seq) {
		return
	}
	s.received++
	switch kind {
	case ArrivalDuplicate:
		s.duplicates++
	case ArrivalLate:
		s.late++
	case ArrivalReordered:
		s.reordered++
	}
	s.updateJitter(ts, at)
}

// updateSeq is RFC 3550 A.1's update_seq without the probation of new
// sources (the session announced this one). It reports whether the packet
// counts; a big jump does not until the next packet confirms it.
func (s *ReceiverStats) updateSeq(seq uint16) bool {
	if !s.started {
		s.started = true
		s.initSeq(seq)
		return true
	}
	udelta := seq - s.maxSeq
	switch {
	case udelta < maxDropout:
		// In order, with a permissible gap.
		if seq < s.maxSeq {
			s.cycles += seqMod
		}
		s.maxSeq = seq
	case int(udelta) <= seqMod-maxMisorder:
		// A very large jump: believe it only if the next packet follows it.
		if uint32(seq) == s.badSeq {
			s.initSeq(seq)
		} else {
			s.badSeq = (uint32(seq) + 1) & (seqMod - 1)
			return false
		}
	default:
		// Duplicate or reordered packet: nothing to update.
	}
	return true
}

func (s *ReceiverStats) initSeq(seq uint16) {
	s.baseSeq = uint32(seq)
	s.maxSeq = seq
	s.badSeq = seqMod + 1
	s.cycles = 0
	s.received, s.receivedPrior, s.expectedPrior = 0, 0, 0
}

// updateJitter is RFC 3550 A.8: J += (|D| - J)/16, with arrival times
// converted to the 90 kHz RTP clock. Differences are taken in 32-bit
// arithmetic so that timestamp wrap-around does no harm.
func (s *ReceiverStats) updateJitter(ts uint32, at time.Time) {
	if s.arrivalRef.IsZero() {
		s.arrivalRef = at
	}
	transit := int32(rtpUnits(at.Sub(s.arrivalRef)) - ts)
	if s.haveTransit {
		d := int64(transit - s.transit)
		if d < 0 {
			d = -d
		}
		s.jitter += (float64(d) - s.jitter) / 16
	}
	s.transit, s.haveTransit = transit, true
}

// rtpUnits converts d to 90 kHz ticks without overflowing for long sessions.
func rtpUnits(d time.Duration) uint32 {
	return uint32(int64(d/time.Second)*pipeline.ClockRate + int64(d%time.Second)*pipeline.ClockRate/int64(time.Second))
}

// SenderReport records an RTCP Sender Report from ssrc carrying ntp and
// rtpTS, received at at.
func (s *ReceiverStats) SenderReport(ssrc uint32, ntp uint64, rtpTS uint32, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ssrc = ssrc
	s.haveSR = true
	s.lsr = uint32(ntp >> 16)
	s.lsrAt = at
	s.srNTP, s.srRTP = ntp, rtpTS
}

// Reset forgets everything: a new session has a new sender, whose
// sequence numbers and timestamps have nothing to do with the last one's
// (and whose BYE is yet to come).
func (s *ReceiverStats) Reset() {
	s.mu.Lock()
	s.receiverState = receiverState{}
	s.mu.Unlock()
}

// Goodbye records an RTCP BYE: the sender has left.
func (s *ReceiverStats) Goodbye() {
	s.mu.Lock()
	s.bye = true
	s.mu.Unlock()
}

// Bye reports whether the sender said goodbye.
func (s *ReceiverStats) Bye() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bye
}

// WallClock maps an RTP timestamp to the sender's wall-clock time using the
// last Sender Report; ok is false before the first SR. Timestamps within
// 2^31 ticks (about 6.6 hours) either side of the SR map correctly.
func (s *ReceiverStats) WallClock(rtpTS uint32) (t time.Time, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.haveSR {
		return time.Time{}, false
	}
	diff := int64(int32(rtpTS - s.srRTP))
	return pipeline.TimeFromNTP(s.srNTP).Add(time.Duration(diff * int64(time.Second) / pipeline.ClockRate)), true
}

// expected and lost are RFC 3550 A.3's; lost is negative when duplicates
// outnumber losses.
func (s *ReceiverStats) expected() uint64 {
	if !s.started {
		return 0
	}
	return uint64(s.cycles) + uint64(s.maxSeq) - uint64(s.baseSeq) + 1
}

func (s *ReceiverStats) lost() int64 { return int64(s.expected()) - int64(s.received) }

// Report fills a reception report block at now. It starts a new report
// interval: FractionLost covers the packets since the previous call, so
// call it once per RTCP report sent.
func (s *ReceiverStats) Report(now time.Time) rtcp.ReceptionReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	expected := s.expected()
	lost := s.lost()
	// The field is 24-bit signed: clamp as A.3 says.
	lost = min(max(lost, -0x800000), 0x7FFFFF)

	expectedInterval := expected - s.expectedPrior
	receivedInterval := s.received - s.receivedPrior
	s.expectedPrior, s.receivedPrior = expected, s.received
	var fraction uint8
	if lostInterval := int64(expectedInterval) - int64(receivedInterval); expectedInterval > 0 && lostInterval > 0 {
		fraction = uint8(lostInterval << 8 / int64(expectedInterval))
	}

	rr := rtcp.ReceptionReport{
		SSRC:               s.ssrc,
		FractionLost:       fraction,
		TotalLost:          uint32(lost) & 0xFFFFFF,
		LastSequenceNumber: s.cycles + uint32(s.maxSeq),
		Jitter:             uint32(s.jitter),
	}
	if s.haveSR {
		rr.LastSenderReport = s.lsr
		if d := now.Sub(s.lsrAt); d > 0 {
			rr.Delay = uint32(int64(d/time.Second)<<16 + int64(d%time.Second)<<16/int64(time.Second))
		}
	}
	return rr
}

// ReceiverSnapshot is a copy of the counters for display or JSON.
type ReceiverSnapshot struct {
	PacketsReceived uint64  `json:"packets_received"`
	PacketsLost     int64   `json:"packets_lost"` // negative when duplicates outnumber losses (RFC 3550 A.3)
	LossPercent     float64 `json:"loss_percent"`
	Duplicates      uint64  `json:"duplicates"`
	Late            uint64  `json:"late"`
	Reordered       uint64  `json:"reordered"`
	JitterMS        float64 `json:"jitter_ms"`
	HighestSeq      uint32  `json:"highest_seq"` // extended: wraps counted in the high 16 bits
	SenderSSRC      uint32  `json:"sender_ssrc"`
}

// Snapshot returns the counters; unlike Report it changes nothing.
func (s *ReceiverStats) Snapshot() ReceiverSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := ReceiverSnapshot{
		PacketsReceived: s.received,
		PacketsLost:     s.lost(),
		Duplicates:      s.duplicates,
		Late:            s.late,
		Reordered:       s.reordered,
		JitterMS:        s.jitter * 1000 / pipeline.ClockRate,
		SenderSSRC:      s.ssrc,
	}
	if s.started {
		snap.HighestSeq = s.cycles + uint32(s.maxSeq)
	}
	if e := s.expected(); e > 0 && snap.PacketsLost > 0 {
		snap.LossPercent = float64(snap.PacketsLost) * 100 / float64(e)
	}
	return snap
}

// ReceiverReport builds an RTCP compound packet (RR + SDES CNAME, as
// RFC 3550 §6.1 requires) from the receiver ssrc carrying report rr.
func ReceiverReport(ssrc uint32, cname string, rr rtcp.ReceptionReport) ([]byte, error) {
	return rtcp.Marshal([]rtcp.Packet{
		&rtcp.ReceiverReport{SSRC: ssrc, Reports: []rtcp.ReceptionReport{rr}},
		&rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{
			Source: ssrc,
			Items:  []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: cname}},
		}}},
	})
}
