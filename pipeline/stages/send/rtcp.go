package send

import (
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"

	"github.com/actorstream/actorstream/pipeline"
)

// SendStats counts what a sink sent, for RTCP Sender Reports. Sinks update
// it; the session reads it from another goroutine, hence the atomics.
type SendStats struct {
	Packets  atomic.Uint64
	Octets   atomic.Uint64 // payload octets, as RFC 3550 §6.4.1 counts them
	lastTS   atomic.Uint32
	lastWall atomic.Int64  // unix nanoseconds at which lastTS was sent
	lastSeq  atomic.Uint32 // sequence number of the last packet sent
}

// Sent records one RTP packet pkt with timestamp ts sent at now.
func (s *SendStats) Sent(pkt []byte, ts uint32, now time.Time) {
	s.SentHeader(pkt, len(pkt), ts, now)
}

// SentHeader records one RTP packet of n bytes whose header (at least its
// first 4 bytes) is head: a split packet (pipeline.Batch.Payloads).
func (s *SendStats) SentHeader(head []byte, n int, ts uint32, now time.Time) {
	// The sequence number first: LastSeq reads Packets as "one was sent",
	// and must then find that packet's number, not the one before it.
	if len(head) >= 4 {
		s.lastSeq.Store(uint32(head[2])<<8 | uint32(head[3]))
	}
	s.lastTS.Store(ts)
	s.lastWall.Store(now.UnixNano())
	if n > 12 {
		s.Octets.Add(uint64(n - 12))
	}
	s.Packets.Add(1)
}

// SentRun records packets RTP packets sent together at now with
// timestamp ts, carrying octets payload octets in all, the last of which
// has the header lastHead: what SentHeader per packet would record, at
// the cost of one update.
func (s *SendStats) SentRun(lastHead []byte, packets, octets int, ts uint32, now time.Time) {
	if len(lastHead) >= 4 { // first, as in SentHeader
		s.lastSeq.Store(uint32(lastHead[2])<<8 | uint32(lastHead[3]))
	}
	s.lastTS.Store(ts)
	s.lastWall.Store(now.UnixNano())
	s.Octets.Add(uint64(octets))
	s.Packets.Add(uint64(packets))
}

// LastSeq is the sequence number of the last packet sent; ok is false
// before the first. A new pipeline continues from it, so packets that were
// built but never sent (dropped by a PAUSE) leave no gap.
func (s *SendStats) LastSeq() (seq uint16, ok bool) {
	if s.Packets.Load() == 0 {
		return 0, false
	}
	return uint16(s.lastSeq.Load()), true
}

// RTPTimeAt extrapolates the stream's RTP clock to now from the last packet
// sent, which is what an SR must carry for receivers to map RTP time to
// wall-clock time.
func (s *SendStats) RTPTimeAt(now time.Time) uint32 {
	last := s.lastWall.Load()
	if last == 0 {
		return s.lastTS.Load()
	}
	elapsed := now.UnixNano() - last
	// elapsed × 90000 / 1e9, reduced to × 9 / 100000 so that the product
	// overflows only after decades instead of after 28 hours (a session
	// paused for a day sends a BYE with an SR on TEARDOWN).
	const g = 10000 // gcd(ClockRate, time.Second)
	return s.lastTS.Load() + uint32(elapsed*(pipeline.ClockRate/g)/(int64(time.Second)/g))
}

// SenderReport builds an RTCP compound packet (SR + SDES CNAME, as RFC 3550
// §6.1 requires of every compound packet) for ssrc at now.
func SenderReport(ssrc uint32, cname string, s *SendStats, now time.Time) ([]byte, error) {
	return rtcp.Marshal(report(ssrc, cname, s, now))
}

// Goodbye builds an RTCP compound packet (SR + SDES + BYE) announcing that
// ssrc leaves the session.
func Goodbye(ssrc uint32, cname string, s *SendStats, now time.Time) ([]byte, error) {
	return rtcp.Marshal(append(report(ssrc, cname, s, now), &rtcp.Goodbye{Sources: []uint32{ssrc}, Reason: "teardown"}))
}

// report is the SR and SDES that start every compound packet we send.
func report(ssrc uint32, cname string, s *SendStats, now time.Time) []rtcp.Packet {
	return []rtcp.Packet{
		&rtcp.SenderReport{
			SSRC:        ssrc,
			NTPTime:     pipeline.NTPTime(now),
			RTPTime:     s.RTPTimeAt(now),
			PacketCount: uint32(s.Packets.Load()),
			OctetCount:  uint32(s.Octets.Load()),
		},
		&rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{
			Source: ssrc,
			Items:  []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: cname}},
		}}},
	}
}
