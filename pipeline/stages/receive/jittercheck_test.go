package receive

import (
	"context"
	"encoding/binary"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/rtcp"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// rxEpoch is an arbitrary arrival time origin for hand-driven tests.
var rxEpoch = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// rxRTP returns a minimal RTP packet (12-byte header, one payload byte).
func rxRTP(seq uint16, ts, ssrc uint32) []byte {
	b := make([]byte, 13)
	b[0], b[1] = 0x80, 26
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	b[12] = byte(seq)
	return b
}

func rxPacket(data []byte, at time.Time) *pipeline.Packet {
	return &pipeline.Packet{Data: data, Received: at}
}

func rxSeq(pk *pipeline.Packet) uint16 { return binary.BigEndian.Uint16(pk.Data[2:]) }

// jcEvent is one step of a hand-driven JitterCheck: a packet arriving at
// time at (relative to rxEpoch), or, with tick set, only the clock reaching
// at; want is what must be released right then.
type jcEvent struct {
	seq  uint16
	at   time.Duration
	tick bool
	want []uint16
}

// jcDrive pushes the events through push/pop and checks each release.
func jcDrive(t *testing.T, j *JitterCheck, evs []jcEvent) {
	t.Helper()
	j.setup()
	for i, ev := range evs {
		now := rxEpoch.Add(ev.at)
		if !ev.tick {
			j.push(rxPacket(rxRTP(ev.seq, uint32(ev.seq)*3600, 7), now), now)
		}
		var got []uint16
		for pk := j.pop(now); pk != nil; pk = j.pop(now) {
			got = append(got, rxSeq(pk))
		}
		if !slices.Equal(got, ev.want) {
			t.Fatalf("event %d (seq %d at %v, tick %v): released %v, want %v", i, ev.seq, ev.at, ev.tick, got, ev.want)
		}
	}
}

// in makes an in-order arrival of seq, released at once, at ms.
func in(seq uint16, ms int) jcEvent {
	return jcEvent{seq: seq, at: time.Duration(ms) * time.Millisecond, want: []uint16{seq}}
}

// held makes an arrival at ms releasing want (nothing if empty).
func held(seq uint16, ms int, want ...uint16) jcEvent {
	return jcEvent{seq: seq, at: time.Duration(ms) * time.Millisecond, want: want}
}

func tick(ms int, want ...uint16) jcEvent {
	return jcEvent{tick: true, at: time.Duration(ms) * time.Millisecond, want: want}
}

func TestJitterCheckOrdering(t *testing.T) {
	tests := []struct {
		name   string
		window int
		evs    []jcEvent
		// expected counters afterwards
		skipped, dup, late, reordered uint64
		lost                          int64
	}{
		{name: "in order passes through", window: 4,
			evs: []jcEvent{in(1, 0), in(2, 1), in(3, 2), in(4, 3), in(5, 4), in(6, 5)}},
		{name: "reorder within window fixed", window: 4,
			evs:       []jcEvent{in(1, 0), held(3, 1), held(2, 2, 2, 3), held(5, 3), held(6, 4), held(4, 5, 4, 5, 6)},
			reordered: 2},
		{name: "duplicates of released and of queued packets", window: 4,
			evs:       []jcEvent{in(1, 0), in(2, 1), held(2, 2), held(4, 3), held(4, 4), held(1, 5), held(3, 6, 3, 4)},
			dup:       3,
			reordered: 1,
			lost:      -3},
		{name: "gap skipped after Window later packets", window: 4,
			evs:     []jcEvent{in(1, 0), held(3, 1), held(4, 2), held(5, 3), held(6, 4, 3, 4, 5, 6), in(7, 5)},
			skipped: 1, lost: 1},
		{name: "gap skipped after MaxDelay", window: 4,
			evs:     []jcEvent{in(1, 0), held(3, 10), held(4, 20), tick(109), tick(110, 3, 4), in(5, 111)},
			skipped: 1, lost: 1},
		{name: "MaxDelay counts from the first packet queued", window: 8,
			// 3 waits from 10 ms; 5 arrives later but must not extend the wait.
			evs:     []jcEvent{in(1, 0), held(3, 10), held(5, 100), tick(110, 3), tick(199), tick(200, 5)},
			skipped: 2, lost: 2},
		{name: "late packet after its slot was skipped", window: 4,
			evs:     []jcEvent{in(1, 0), held(3, 1), held(4, 2), held(5, 3), held(6, 4, 3, 4, 5, 6), held(2, 5), in(7, 6)},
			skipped: 1, late: 1, lost: 0},
		{name: "two gaps, one filled", window: 4,
			evs:     []jcEvent{in(1, 0), held(3, 1), held(5, 2), held(2, 3, 2, 3), held(6, 4), held(7, 5), held(8, 6, 5, 6, 7, 8)},
			skipped: 1, reordered: 1, lost: 1},
		{name: "sequence wraps", window: 4,
			evs: []jcEvent{in(65533, 0), in(65534, 1), held(0, 2), held(65535, 3, 65535, 0), held(0, 3), held(2, 4), held(1, 5, 1, 2), in(3, 6)},
			// the second 0 arrives while 0 is released: a duplicate
			dup: 1, reordered: 2, lost: -1},
		{name: "gap across the wrap", window: 4,
			evs:     []jcEvent{in(65534, 0), held(1, 1), held(2, 2), held(3, 3), held(4, 4, 1, 2, 3, 4)},
			skipped: 2, lost: 2},
		{name: "jump far ahead", window: 4,
			// nothing queued: skip to the window ending at 1000, wait for 997..999
			evs:     []jcEvent{in(1, 0), held(1000, 1), tick(101, 1000), in(1001, 102)},
			skipped: 998, lost: 998},
		{name: "sender restarts backwards", window: 4,
			// The first packet of the restart is not believed (dropped,
			// and not counted by the statistics either: RFC 3550 A.1);
			// the second confirms it and both restart from there.
			evs: []jcEvent{in(5000, 0), in(5001, 1), held(10, 2), in(11, 3), in(12, 4)}},
		{name: "jump far ahead confirmed resets the statistics", window: 4,
			evs:     []jcEvent{in(1, 0), held(9000, 1), held(9001, 2), held(9002, 3), held(9003, 4, 9000, 9001, 9002, 9003)},
			skipped: 8998, lost: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stats := new(ReceiverStats)
			j := &JitterCheck{Window: tt.window, MaxDelay: 100 * time.Millisecond, Receiver: stats}
			jcDrive(t, j, tt.evs)
			snap := stats.Snapshot()
			if j.Stats().Skipped != tt.skipped || snap.Duplicates != tt.dup || snap.Late != tt.late ||
				snap.Reordered != tt.reordered || snap.PacketsLost != tt.lost {
				t.Errorf("skipped %d dup %d late %d reordered %d lost %d; want %d %d %d %d %d",
					j.Stats().Skipped, snap.Duplicates, snap.Late, snap.Reordered, snap.PacketsLost,
					tt.skipped, tt.dup, tt.late, tt.reordered, tt.lost)
			}
		})
	}
}

// TestJitterCheckLossMatchesDrops: random permanent losses and local
// reordering; every packet is released once, in order, and the loss the
// statistics report is exactly the number of packets the check gave up on.
func TestJitterCheckLossMatchesDrops(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 5000
	seqs := make([]uint16, 0, n)
	dropped := 0
	for i := range n {
		if i > 0 && i < n-1 && rng.IntN(20) == 0 {
			dropped++
			continue
		}
		seqs = append(seqs, uint16(60000+i)) // wraps half way
	}
	// Swap neighbours now and then: reordering within the window.
	for i := 1; i+1 < len(seqs); i++ {
		if rng.IntN(10) == 0 {
			seqs[i], seqs[i+1] = seqs[i+1], seqs[i]
			i++
		}
	}
	stats := new(ReceiverStats)
	j := &JitterCheck{Window: 8, Receiver: stats}
	j.setup()
	var got []uint16
	for i, s := range seqs {
		now := rxEpoch.Add(time.Duration(i) * time.Millisecond)
		j.push(rxPacket(rxRTP(s, 0, 1), now), now)
		for pk := j.pop(now); pk != nil; pk = j.pop(now) {
			got = append(got, rxSeq(pk))
		}
	}
	for pk := j.drain(); pk != nil; pk = j.drain() {
		got = append(got, rxSeq(pk))
	}
	want := slices.Clone(seqs)
	slices.SortFunc(want, func(a, b uint16) int { return int(int16(a - b)) })
	if !slices.Equal(got, want) {
		t.Fatalf("released %d packets out of order or incomplete", len(got))
	}
	snap := stats.Snapshot()
	if j.Stats().Skipped != uint64(dropped) || snap.PacketsLost != int64(dropped) {
		t.Errorf("skipped %d, stats lost %d; %d were dropped", j.Stats().Skipped, snap.PacketsLost, dropped)
	}
	if snap.HighestSeq != 60000+n-1 {
		t.Errorf("extended highest %d, want %d", snap.HighestSeq, 60000+n-1)
	}
}

// TestJitterCheckRTCP: Sender Reports and BYE update the statistics and
// are consumed; RTP keeps flowing around them; junk is counted, never
// forwarded and never a panic.
func TestJitterCheckRTCP(t *testing.T) {
	sr, err := rtcp.Marshal([]rtcp.Packet{
		&rtcp.SenderReport{SSRC: 0xABCD, NTPTime: 0x11112222_33334444, RTPTime: 5000},
		&rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{Source: 0xABCD,
			Items: []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: "srv"}}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	bye, err := rtcp.Marshal([]rtcp.Packet{&rtcp.Goodbye{Sources: []uint32{0xABCD}}})
	if err != nil {
		t.Fatal(err)
	}
	stats := new(ReceiverStats)
	j := &JitterCheck{Receiver: stats}
	j.setup()
	now := rxEpoch
	var got []uint16
	feed := func(pk *pipeline.Packet) {
		j.push(pk, now)
		for p := j.pop(now); p != nil; p = j.pop(now) {
			got = append(got, rxSeq(p))
		}
	}
	feed(rxPacket(rxRTP(1, 0, 0xABCD), now))
	feed(&pipeline.Packet{Data: sr, RTCP: true, Received: now})
	feed(rxPacket(rxRTP(2, 3600, 0xABCD), now))
	if stats.Bye() {
		t.Error("Bye before the BYE")
	}
	for _, junk := range [][]byte{nil, {0x80}, {0x80, 200, 0xFF, 0xFF}, {0x40, 200, 0, 0}} {
		feed(&pipeline.Packet{Data: junk, RTCP: true})
		feed(&pipeline.Packet{Data: junk})
	}
	feed(&pipeline.Packet{Data: bye, RTCP: true, Received: now})
	if !slices.Equal(got, []uint16{1, 2}) {
		t.Errorf("released %v, want [1 2]", got)
	}
	if !stats.Bye() {
		t.Error("BYE not recorded")
	}
	if rr := stats.Report(now); rr.LastSenderReport != 0x22223333 || rr.SSRC != 0xABCD {
		t.Errorf("LSR %#x SSRC %#x after SR", rr.LastSenderReport, rr.SSRC)
	}
	if j.Stats().Invalid == 0 {
		t.Error("junk not counted")
	}
}

// TestJitterCheckLabStream: the original lab server's stream (SSRC 0,
// PT 26, sequence from 1, wall-clock-second timestamps) passes unchanged.
func TestJitterCheckLabStream(t *testing.T) {
	stats := new(ReceiverStats)
	j := &JitterCheck{Receiver: stats}
	j.setup()
	var got []uint16
	for i := range 60 {
		now := rxEpoch.Add(time.Duration(i) * 50 * time.Millisecond)
		j.push(rxPacket(rxRTP(uint16(i+1), uint32(1714564800+i/20), 0), now), now)
		for p := j.pop(now); p != nil; p = j.pop(now) {
			got = append(got, rxSeq(p))
		}
	}
	if len(got) != 60 || got[0] != 1 || got[59] != 60 {
		t.Errorf("lab stream: released %d packets (%v...)", len(got), got[:min(3, len(got))])
	}
	snap := stats.Snapshot()
	if snap.PacketsLost != 0 || snap.SenderSSRC != 0 || snap.JitterMS < 0 {
		t.Errorf("lab stream stats %+v", snap)
	}
}

// TestJitterCheckRandomInput: arbitrary datagrams never panic and every
// packet is either released by the check or handed out exactly once.
func TestJitterCheckRandomInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	j := &JitterCheck{Window: 5, Receiver: new(ReceiverStats)}
	j.setup()
	seen := map[*pipeline.Packet]bool{}
	for i := range 20000 {
		b := make([]byte, rng.IntN(20))
		for k := range b {
			b[k] = byte(rng.Uint32())
		}
		if len(b) > 0 && rng.IntN(2) == 0 {
			b[0] = 0x80
		}
		now := rxEpoch.Add(time.Duration(i) * time.Millisecond)
		j.push(&pipeline.Packet{Data: b, RTCP: rng.IntN(4) == 0}, now)
		for p := j.pop(now); p != nil; p = j.pop(now) {
			if seen[p] {
				t.Fatal("a packet was released twice")
			}
			seen[p] = true
		}
	}
	j.reset()
}

// TestJitterCheckRunMaxDelay runs the stage in fake time: a gap is given
// up on exactly MaxDelay after the first packet queued behind it, without
// any further packet arriving to trigger it.
func TestJitterCheckRunMaxDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := make(chan *pipeline.Packet)
		out := make(chan *pipeline.Packet, 8)
		j := &JitterCheck{Window: 32, MaxDelay: 100 * time.Millisecond, Receiver: new(ReceiverStats)}
		errc := make(chan error)
		go func() { errc <- j.Run(context.Background(), in, out) }()

		in <- rxPacket(rxRTP(1, 0, 1), time.Now())
		if s := rxSeq(<-out); s != 1 {
			t.Fatalf("got %d first", s)
		}
		queued := time.Now()
		in <- rxPacket(rxRTP(3, 7200, 1), time.Now())
		time.Sleep(60 * time.Millisecond)
		in <- rxPacket(rxRTP(4, 10800, 1), time.Now())
		time.Sleep(39 * time.Millisecond)
		synctest.Wait()
		if len(out) != 0 {
			t.Fatalf("released %d packets before MaxDelay", len(out))
		}
		got := []uint16{rxSeq(<-out), rxSeq(<-out)}
		if d := time.Since(queued); d != 100*time.Millisecond {
			t.Errorf("gap given up after %v, want 100ms", d)
		}
		if !slices.Equal(got, []uint16{3, 4}) {
			t.Errorf("released %v, want [3 4]", got)
		}
		// A gap when the input closes: the rest is flushed in order.
		in <- rxPacket(rxRTP(6, 0, 1), time.Now())
		in <- rxPacket(rxRTP(7, 0, 1), time.Now())
		close(in)
		if err := <-errc; err != nil {
			t.Fatalf("Run = %v", err)
		}
		if a, b := rxSeq(<-out), rxSeq(<-out); a != 6 || b != 7 {
			t.Errorf("flushed %d %d, want 6 7", a, b)
		}
		if j.Stats().Skipped != 2 {
			t.Errorf("skipped %d, want 2", j.Stats().Skipped)
		}
	})
}

// TestJitterCheckRunCancel: cancelling returns ctx.Err() and releases
// what was queued (a later Run starts afresh).
func TestJitterCheckRunCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		in := make(chan *pipeline.Packet)
		out := make(chan *pipeline.Packet, 8)
		j := &JitterCheck{Receiver: new(ReceiverStats)}
		errc := make(chan error)
		go func() { errc <- j.Run(ctx, in, out) }()
		in <- rxPacket(rxRTP(1, 0, 1), time.Now())
		in <- rxPacket(rxRTP(3, 0, 1), time.Now())
		synctest.Wait()
		cancel()
		if err := <-errc; err != context.Canceled {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
		if j.queued != 0 || slices.ContainsFunc(j.ring, func(p *pipeline.Packet) bool { return p != nil }) {
			t.Error("queued packets kept after Run returned")
		}
	})
}

// TestJitterCheckAllocs: the steady per-packet path allocates nothing.
func TestJitterCheckAllocs(t *testing.T) {
	pool := pipeline.NewPacketPool(4, 1500)
	j := &JitterCheck{Receiver: new(ReceiverStats)}
	j.setup()
	var seq uint16
	now := rxEpoch
	step := func() {
		seq++
		now = now.Add(time.Millisecond)
		pk := pool.Get()
		pk.Data = pk.Data[:100]
		copy(pk.Data, rxRTP(0, 0, 0)[:12])
		binary.BigEndian.PutUint16(pk.Data[2:], seq)
		binary.BigEndian.PutUint32(pk.Data[4:], uint32(seq)*90)
		pk.Received = now
		j.push(pk, now)
		for p := j.pop(now); p != nil; p = j.pop(now) {
			p.Release()
		}
	}
	step()
	if n := testing.AllocsPerRun(200, step); n != 0 {
		t.Errorf("per-packet path allocates %v times", n)
	}
}

func BenchmarkJitterCheck(b *testing.B) {
	pool := pipeline.NewPacketPool(4, 1500)
	j := &JitterCheck{Receiver: new(ReceiverStats)}
	j.setup()
	hdr := rxRTP(0, 0, 0)[:12]
	var seq uint16
	now := rxEpoch
	b.ReportAllocs()
	for b.Loop() {
		seq++
		now = now.Add(time.Millisecond)
		pk := pool.Get()
		pk.Data = pk.Data[:1400]
		copy(pk.Data, hdr)
		// Swap every 4th pair: some reordering on the path.
		s := seq
		if seq%8 == 4 {
			s++
		} else if seq%8 == 5 {
			s--
		}
		binary.BigEndian.PutUint16(pk.Data[2:], s)
		pk.Received = now
		j.push(pk, now)
		for p := j.pop(now); p != nil; p = j.pop(now) {
			p.Release()
		}
	}
}

// TestJitterCheckReportsDrops: every packet the check drops is a Drop
// event saying why; the lost packet it skips is only counted.
func TestJitterCheckReportsDrops(t *testing.T) {
	now := time.Now()
	var in []*pipeline.Packet
	for _, seq := range []uint16{1, 3, 4, 5, 2, 5} { // 2 is lost, then comes late; 5 twice
		in = append(in, rxPacket(rxRTP(seq, uint32(seq)*3600, 7), now))
	}
	in = append(in, rxPacket(make([]byte, 20), now), &pipeline.Packet{Data: []byte{0, 200, 0, 0}, RTCP: true, Received: now})
	j := &JitterCheck{Window: 2, Receiver: new(ReceiverStats)}
	out, events := pipelinetest.RunStageEvents(t, j, in...)
	var seqs []uint16
	for _, pk := range out {
		seqs = append(seqs, rxSeq(pk))
	}
	if !slices.Equal(seqs, []uint16{1, 3, 4, 5}) {
		t.Errorf("released %v", seqs)
	}
	why := map[error]uint64{}
	for _, e := range events.All() {
		if e.Kind != pipeline.Drop {
			t.Errorf("unexpected event %+v", e)
		}
		why[e.Err] += e.N
	}
	want := map[error]uint64{ErrLate: 1, ErrDuplicate: 1, ErrInvalidDatagram: 2}
	if !maps.Equal(why, want) {
		t.Errorf("drops %v, want %v", why, want)
	}
	if st := j.Stats(); st != (JitterCheckStats{Skipped: 1, Invalid: 2}) {
		t.Errorf("Stats %+v", st)
	}
}
