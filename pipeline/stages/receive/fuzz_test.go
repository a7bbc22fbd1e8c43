package receive

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/pion/rtcp"

	"github.com/actorstream/actorstream/pipeline"
)

// fuzzPackets tracks every packet given to a JitterCheck. Packets come from
// a PacketPool so that the ones the check releases itself (duplicates, late,
// RTCP, junk) can be recovered from the pool's free list: a packet found
// there twice, or found there after being handed out, is a double release.
type fuzzPackets struct {
	t        *testing.T
	pool     *pipeline.PacketPool
	state    map[*pipeline.Packet]int // 1 pushed, 2 handed out, 3 released by the check
	released int                      // state 3
	out      int                      // state 2
}

const (
	pkPushed = iota + 1
	pkOut
	pkReleased
)

func newFuzzPackets(t *testing.T, n int) *fuzzPackets {
	return &fuzzPackets{t: t, pool: pipeline.NewPacketPool(n+1, 64), state: map[*pipeline.Packet]int{}}
}

// get returns a packet never used before holding data.
func (fp *fuzzPackets) get(data []byte, rtcp bool) *pipeline.Packet {
	pk := fp.pool.Get()
	if _, seen := fp.state[pk]; seen {
		// Only possible if collect missed a released packet.
		fp.t.Fatal("pool returned a tracked packet")
	}
	if cap(pk.Data) < len(data) {
		pk.Data = make([]byte, len(data))
	}
	pk.Data = append(pk.Data[:0], data...)
	pk.RTCP = rtcp
	fp.state[pk] = pkPushed
	return pk
}

// collect empties the pool's free list, marking what the check released.
// A fresh packet (the list was empty) ends the scan; it is simply dropped.
func (fp *fuzzPackets) collect() {
	for {
		pk := fp.pool.Get()
		st, ok := fp.state[pk]
		if !ok {
			return
		}
		if st != pkPushed {
			fp.t.Fatalf("packet released by the check in state %d (double release or release after hand-out)", st)
		}
		fp.state[pk] = pkReleased
		fp.released++
	}
}

// handedOut marks a packet returned by pop or drain.
func (fp *fuzzPackets) handedOut(pk *pipeline.Packet) {
	if st := fp.state[pk]; st != pkPushed {
		fp.t.Fatalf("packet handed out in state %d (twice, or after release)", st)
	}
	fp.state[pk] = pkOut
	fp.out++
}

// seqModel is RFC 3550 A.1's sequence tracking reduced to "does this packet
// make the statistics ignore or restart": while it never does, the
// statistics' counts must match the jitter check's exactly.
type seqModel struct {
	started bool
	max     uint16
	jumped  bool
}

func (m *seqModel) add(seq uint16) {
	if !m.started {
		m.started, m.max = true, seq
		return
	}
	switch d := seq - m.max; {
	case d < maxDropout:
		m.max = seq
	case int(d) <= seqMod-maxMisorder:
		m.jumped = true
	}
}

// FuzzJitterCheck drives push/pop/drain with a script of datagrams. Script:
// byte 0 sets Window (1..64) and MaxDelay; then per event one op byte
// (low 2 bits: 0 RTP at a small sequence step, 1 RTP at an absolute sequence,
// 2 RTCP, 3 raw datagram; bits 2..7: arrival delay in ms, times 4) and its
// arguments. Checked: no panic; every packet is handed out or released by
// the check exactly once, never both; handed-out packets are valid RTP in
// strictly increasing extended sequence order; at the end nothing is held;
// the statistics agree with what the check saw.
func FuzzJitterCheck(f *testing.F) {
	f.Add([]byte{8, 0, 1, 0, 1, 0, 2, 0, 255, 0, 3, 0, 1})
	f.Add([]byte{4, 0, 5, 4, 0, 6, 0, 3, 4, 0, 1, 0, 1, 0, 2})
	f.Add([]byte{0, 1, 0xff, 0xf0, 0, 5, 0, 5, 0, 5})                                      // wrap-around
	f.Add([]byte{5, 1, 0, 200, 1, 0, 10, 1, 0, 11, 1, 0, 205, 1, 0, 206})                  // restart backwards
	f.Add([]byte{3, 1, 0, 1, 1, 0x20, 0, 1, 0x20, 1, 2, 28, 0x80, 200, 0, 6, 3, 12, 0x80}) // big jump + RTCP
	f.Add([]byte{32, 0xfc, 1, 0xfc, 2, 0xfc, 3, 0, 1, 0, 2})                               // gaps given up on by time
	f.Fuzz(func(t *testing.T, script []byte) {
		if len(script) == 0 {
			return
		}
		stats := new(ReceiverStats)
		j := &JitterCheck{Window: 1 + int(script[0]%64), MaxDelay: time.Duration(1+script[0]>>6) * 20 * time.Millisecond, Receiver: stats}
		j.setup()
		fp := newFuzzPackets(t, len(script))
		var model seqModel
		now := rxEpoch
		var seq uint16
		validRTP, rtcpN, junk := 0, 0, 0
		lastExt := int64(math.MinInt64)
		var lastSeq uint16
		check := func(pk *pipeline.Packet, ext int64) {
			fp.handedOut(pk)
			if pk.RTCP || len(pk.Data) < 12 || pk.Data[0]>>6 != 2 {
				t.Fatalf("handed out a non-RTP packet % x", pk.Data)
			}
			s := rxSeq(pk)
			if ext <= lastExt || uint16(ext) != s {
				t.Fatalf("handed out seq %d (ext %d) after seq %d (ext %d)", s, ext, lastSeq, lastExt)
			}
			lastExt, lastSeq = ext, s
		}
		popAll := func() {
			for pk := j.pop(now); pk != nil; pk = j.pop(now) {
				check(pk, j.next-1)
			}
			fp.collect()
		}
		for s := script[1:]; len(s) > 0; {
			op := s[0]
			s = s[1:]
			now = now.Add(time.Duration(op>>2) * 4 * time.Millisecond)
			var data []byte
			isRTCP := false
			switch op & 3 {
			case 0, 1:
				if op&3 == 0 && len(s) >= 1 {
					seq += uint16(int8(s[0]))
					s = s[1:]
				} else if len(s) >= 2 {
					seq = binary.BigEndian.Uint16(s)
					s = s[2:]
				} else {
					s = nil
					continue
				}
				data = rxRTP(seq, uint32(seq)*3000, 0xCAFE)
				validRTP++
				model.add(seq)
			case 2, 3:
				if len(s) < 1 {
					s = nil
					continue
				}
				n := min(int(s[0]), len(s)-1)
				data = s[1 : 1+n]
				s = s[1+n:]
				isRTCP = op&3 == 2
				switch {
				case isRTCP:
					rtcpN++
				case len(data) >= 12 && data[0]>>6 == 2:
					validRTP++
					model.add(binary.BigEndian.Uint16(data[2:]))
				default:
					junk++
				}
			}
			j.push(fp.get(data, isRTCP), now)
			popAll()
			if j.queued < 0 || j.queued > len(j.ring) {
				t.Fatalf("queued %d with window %d", j.queued, len(j.ring))
			}
		}
		// A late tick, then the end of input.
		now = now.Add(time.Second)
		popAll()
		for {
			// drain hands out the ring in order, then the pending packet
			// (beyond the ring, or the first of a restarted sequence).
			fromRing, pendingExt := j.queued > 0, j.pendingExt
			pk := j.drain()
			if pk == nil {
				break
			}
			if fromRing {
				check(pk, j.next-1)
			} else {
				check(pk, pendingExt)
			}
		}
		fp.collect()

		if j.queued != 0 || j.pending != nil {
			t.Fatalf("still holding %d packets (pending %v) after drain", j.queued, j.pending != nil)
		}
		pushed := validRTP + rtcpN + junk
		if fp.out+fp.released != pushed {
			t.Fatalf("pushed %d, handed out %d, released %d", pushed, fp.out, fp.released)
		}
		if fp.out > validRTP {
			t.Fatalf("handed out %d of %d RTP packets", fp.out, validRTP)
		}
		if j.Stats().Invalid < uint64(junk) {
			t.Fatalf("Invalid %d < %d junk datagrams", j.Stats().Invalid, junk)
		}
		snap := stats.Snapshot()
		if snap.PacketsReceived > uint64(validRTP) {
			t.Fatalf("stats received %d > %d RTP packets pushed", snap.PacketsReceived, validRTP)
		}
		dropped := uint64(validRTP - fp.out)
		if snap.Duplicates+snap.Late > dropped {
			t.Fatalf("stats duplicates %d + late %d > %d dropped", snap.Duplicates, snap.Late, dropped)
		}
		if !model.jumped {
			// No sequence jump the statistics ignore or restart on: they
			// count every packet, and the check's drops are exactly the
			// duplicates and late ones.
			if snap.PacketsReceived != uint64(validRTP) || snap.Duplicates+snap.Late != dropped ||
				snap.PacketsReceived < uint64(fp.out) || snap.Reordered > uint64(fp.out) {
				t.Fatalf("stats %+v for %d RTP packets, %d handed out, %d dropped", snap, validRTP, fp.out, dropped)
			}
		}
		if math.IsNaN(snap.JitterMS) || snap.JitterMS < 0 || snap.LossPercent < 0 || snap.LossPercent > 100 {
			t.Fatalf("stats %+v", snap)
		}
		stats.Report(now)
		j.reset()
	})
}

// FuzzReceiverRTCP feeds arbitrary RTCP datagrams to the jitter check. It
// never panics, consumes (releases) every datagram, leaves the RTP ordering
// state alone, and, for input that pion/rtcp parses as a compound packet,
// reports no invalid datagram and records exactly the last Sender Report
// and any BYE in the statistics.
func FuzzReceiverRTCP(f *testing.F) {
	sr, _ := rtcp.Marshal([]rtcp.Packet{
		&rtcp.SenderReport{SSRC: 0xABCD, NTPTime: 0x11112222_33334444, RTPTime: 5000},
		&rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{Source: 0xABCD,
			Items: []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: "srv"}}}}},
	})
	bye, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.Goodbye{Sources: []uint32{0xABCD}, Reason: "bye"}})
	rr, _ := ReceiverReport(1, "me", rtcp.ReceptionReport{SSRC: 2, FractionLost: 3})
	two, _ := rtcp.Marshal([]rtcp.Packet{
		&rtcp.SenderReport{SSRC: 1, NTPTime: 1 << 40, RTPTime: 1},
		&rtcp.SenderReport{SSRC: 2, NTPTime: 2 << 40, RTPTime: 2, Reports: []rtcp.ReceptionReport{{SSRC: 9}}},
		&rtcp.Goodbye{Sources: []uint32{2}},
	})
	f.Add(sr)
	f.Add(bye)
	f.Add(rr)
	f.Add(two)
	f.Add(append(append([]byte{}, sr...), 0x80, 0xC8, 0x00))
	f.Add([]byte{0x80, 200, 0, 1, 0, 0, 0, 1})
	f.Add([]byte{0x40, 200, 0, 0})
	f.Add([]byte{0x80, 203, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		stats := new(ReceiverStats)
		j := &JitterCheck{Receiver: stats}
		j.setup()
		fp := newFuzzPackets(t, 1)
		at := rxEpoch.Add(time.Hour)
		j.push(fp.get(data, true), rxEpoch)
		fp.collect()
		if fp.released != 1 {
			t.Fatal("RTCP datagram not released")
		}
		if pk := j.pop(at); pk != nil {
			t.Fatal("RTCP datagram handed out")
		}
		if j.init || j.queued != 0 || j.pending != nil {
			t.Fatal("RTCP changed the RTP ordering state")
		}
		snap := stats.Snapshot()
		if snap.PacketsReceived != 0 || snap.HighestSeq != 0 {
			t.Fatalf("RTCP counted as RTP: %+v", snap)
		}
		rep := stats.Report(at)
		pkts, err := rtcp.Unmarshal(data)
		if err != nil {
			return
		}
		if j.Stats().Invalid != 0 {
			t.Fatalf("pion parses %d packets, the check counts %d invalid", len(pkts), j.Stats().Invalid)
		}
		var last *rtcp.SenderReport
		sawBye := false
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.SenderReport:
				last = p
			case *rtcp.Goodbye:
				sawBye = true
			}
		}
		if stats.Bye() != sawBye {
			t.Fatalf("Bye() = %v, pion saw BYE %v", stats.Bye(), sawBye)
		}
		wc, ok := stats.WallClock(0)
		if (last != nil) != ok {
			t.Fatalf("WallClock ok=%v, pion SR %v", ok, last != nil)
		}
		if last == nil {
			return
		}
		if snap.SenderSSRC != last.SSRC || rep.LastSenderReport != uint32(last.NTPTime>>16) {
			t.Fatalf("stats SSRC %x LSR %x, last SR %+v", snap.SenderSSRC, rep.LastSenderReport, last)
		}
		if d := time.Duration(int64(int32(0-last.RTPTime)) * int64(time.Second) / pipeline.ClockRate); !wc.Equal(pipeline.TimeFromNTP(last.NTPTime).Add(d)) {
			t.Fatalf("WallClock(0) = %v for SR %+v", wc, last)
		}
		if want := uint32(time.Hour / time.Second << 16); rep.Delay != want {
			t.Fatalf("DLSR %d, want %d", rep.Delay, want)
		}
	})
}
