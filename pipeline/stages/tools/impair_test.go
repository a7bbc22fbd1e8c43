package tools

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// impFeed is a packet entering the stage at a time after the start.
type impFeed struct {
	at   time.Duration
	seq  uint16
	rtcp bool
}

// impOut is a packet leaving the stage.
type impOut struct {
	at   time.Duration
	seq  uint16
	rtcp bool
}

// impRun pushes feed through s inside a synctest bubble (so that times
// are exact) and returns what came out, in order. Every packet comes from
// one pool whose free list can hold them all; afterwards the free list is
// drained to check that each was released exactly once, and the drops
// reported are checked against those counted.
func impRun(t *testing.T, s *Impair, feed []impFeed) []impOut {
	t.Helper()
	outs, _ := impRunEvents(t, s, feed)
	return outs
}

// impRunEvents is impRun that also returns the events s reported, as the
// stage named "impair" of a pipeline.
func impRunEvents(t *testing.T, s *Impair, feed []impFeed) ([]impOut, *pipelinetest.Events) {
	t.Helper()
	var outs []impOut
	events := &pipelinetest.Events{}
	synctest.Test(t, func(t *testing.T) {
		// Duplicates are unpooled (s.Pool nil): taking them from this
		// pool could reuse, and overwrite, a released input.
		pool := pipeline.NewPacketPool(len(feed)+8, 16)
		pks := make([]*pipeline.Packet, len(feed))
		for i, f := range feed {
			pk := pool.Get()
			pk.Data = pk.Data[:16]
			pk.Data[0], pk.Data[1] = 0x80, 26
			binary.BigEndian.PutUint16(pk.Data[2:], f.seq)
			binary.BigEndian.PutUint32(pk.Data[12:], uint32(i+1)) // identity, never 0
			pk.RTCP = f.rtcp
			pks[i] = pk
		}
		start := time.Now()
		in := make(chan *pipeline.Packet)
		go func() {
			defer close(in)
			for i, f := range feed {
				time.Sleep(time.Until(start.Add(f.at)))
				in <- pks[i]
			}
		}()
		p := pipeline.New()
		p.OnEvent(events.Record)
		impaired := pipeline.Then(p, "impair", s, in)
		pipeline.To(p, "collect", pipeline.SinkFunc[*pipeline.Packet](func(ctx context.Context, in <-chan *pipeline.Packet) error {
			for pk := range in {
				outs = append(outs, impOut{at: time.Since(start), seq: binary.BigEndian.Uint16(pk.Data[2:]), rtcp: pk.RTCP})
				pk.Release()
			}
			return nil
		}), impaired)
		if err := p.Run(context.Background()); err != nil {
			t.Fatalf("Run: %v", err)
		}
		// Drain the free list: released packets still carry their identity.
		released := make(map[uint32]int)
		for {
			pk := pool.Get()
			id := binary.BigEndian.Uint32(pk.Data[12:16])
			if id == 0 {
				break
			}
			released[id]++
			pk.Data[12], pk.Data[13], pk.Data[14], pk.Data[15] = 0, 0, 0, 0
		}
		st := s.Stats()
		total := 0
		for i := range feed {
			n := released[uint32(i+1)]
			if n != 1 {
				t.Errorf("packet %d released %d times", i, n)
			}
			total += n
		}
		if total != len(feed) {
			t.Errorf("released %d packets, want %d", total, len(feed))
		}
		if st.In > uint64(len(feed)) {
			t.Errorf("In %d > %d packets fed", st.In, len(feed))
		}
		if got := events.Sum("impair", pipeline.Drop); got != st.Dropped {
			t.Errorf("%d drops reported, %d counted", got, st.Dropped)
		}
		for _, e := range events.All() {
			if e.Kind != pipeline.Drop || e.Stage != "impair" || e.N != 1 ||
				(!errors.Is(e.Err, ErrImpairLoss) && !errors.Is(e.Err, ErrImpairOutage)) {
				t.Errorf("event %+v: want one drop by impair, for loss or an outage", e)
			}
		}
	})
	return outs, events
}

// impDropReasons counts the drops reported for each reason.
func impDropReasons(events *pipelinetest.Events) (loss, outage int) {
	for _, e := range events.All() {
		switch {
		case errors.Is(e.Err, ErrImpairLoss):
			loss++
		case errors.Is(e.Err, ErrImpairOutage):
			outage++
		}
	}
	return loss, outage
}

// impSteady is n RTP packets, one every gap from 0 on, seq 0, 1, ...
func impSteady(n int, gap time.Duration) []impFeed {
	f := make([]impFeed, n)
	for i := range f {
		f[i] = impFeed{at: time.Duration(i) * gap, seq: uint16(i)}
	}
	return f
}

func impSeqs(outs []impOut) []uint16 {
	s := make([]uint16, len(outs))
	for i, o := range outs {
		s[i] = o.seq
	}
	return s
}

// missing returns the sequence numbers below n that never came out.
func impMissing(outs []impOut, n int) []uint16 {
	seen := make([]bool, n)
	for _, o := range outs {
		seen[o.seq] = true
	}
	var m []uint16
	for i, ok := range seen {
		if !ok {
			m = append(m, uint16(i))
		}
	}
	return m
}

func TestImpairLoss(t *testing.T) {
	const n = 10000
	run := func(seed uint64) ([]uint16, ImpairStats) {
		s := &Impair{Impairment: Impairment{Seed: seed, Loss: 0.05}}
		outs, events := impRunEvents(t, s, impSteady(n, time.Millisecond))
		if !slices.IsSorted(impSeqs(outs)) {
			t.Error("loss alone reordered packets")
		}
		lost := impMissing(outs, n)
		if loss, outage := impDropReasons(events); loss != len(lost) || outage != 0 {
			t.Errorf("drops reported: %d for loss, %d for an outage; want %d and 0", loss, outage, len(lost))
		}
		return lost, s.Stats()
	}
	lost, st := run(1)
	pct := float64(len(lost)) * 100 / n
	t.Logf("seed 1: %d of %d dropped (%.2f %%)", len(lost), n, pct)
	// Binomial σ = sqrt(n·p·(1-p)) = 21.8 packets = 0.22 pp: ±0.7 pp is 3.2σ.
	if math.Abs(pct-5) > 0.7 {
		t.Errorf("dropped %.2f %%, want 5 ± 0.7", pct)
	}
	if st.In != n || st.Dropped != uint64(len(lost)) || st.Duplicated+st.Reordered+st.Delayed != 0 {
		t.Errorf("stats %+v, want In %d Dropped %d and nothing else", st, n, len(lost))
	}
	// Pinned: a change here changes every fault test's pattern.
	if len(lost) != 503 {
		t.Errorf("seed 1 dropped %d packets, want exactly 503", len(lost))
	}
	// The same seed drops the same packets; another seed others.
	again, _ := run(1)
	if !slices.Equal(lost, again) {
		t.Error("seed 1 dropped different packets on the second run")
	}
	other, _ := run(2)
	if slices.Equal(lost, other) {
		t.Error("seeds 1 and 2 dropped the same packets")
	}
	// The decisions are the Impairer's: replaying it predicts every drop.
	im := NewImpairer(Impairment{Seed: 1, Loss: 0.05})
	var want []uint16
	for i := range n {
		if im.Decide(time.Unix(0, 0).Add(time.Duration(i) * time.Millisecond)).Drop {
			want = append(want, uint16(i))
		}
	}
	if !slices.Equal(lost, want) {
		t.Error("the stage's drops differ from the Impairer's decisions")
	}
}

func TestImpairBurst(t *testing.T) {
	const n = 20000
	ge := &GilbertElliott{PGoodToBad: 0.01, PBadToGood: 0.25, LossBad: 1}
	s := &Impair{Impairment: Impairment{Seed: 7, Burst: ge}}
	lost := impMissing(impRun(t, s, impSteady(n, time.Millisecond)), n)
	// Stationary: p/(p+r) = 0.01/0.26 = 3.85 % lost, bursts of 1/r = 4.
	bursts := 0
	for i, q := range lost {
		if i == 0 || lost[i-1] != q-1 {
			bursts++
		}
	}
	pct := float64(len(lost)) * 100 / n
	mean := float64(len(lost)) / float64(bursts)
	t.Logf("%d lost (%.2f %%) in %d bursts, mean %.2f", len(lost), pct, bursts, mean)
	// About 200 bursts: the loss has σ ≈ 0.45 pp, the mean burst σ ≈ 0.25.
	if math.Abs(pct-3.85) > 1.5 {
		t.Errorf("burst loss %.2f %%, want 3.85 ± 1.5", pct)
	}
	if mean < 3 || mean > 5 {
		t.Errorf("mean burst %.2f packets, want 4 ± 1", mean)
	}
	if s.Stats().Dropped != uint64(len(lost)) {
		t.Errorf("Dropped %d, want %d", s.Stats().Dropped, len(lost))
	}
}

func TestImpairDelayJitter(t *testing.T) {
	const n = 2000
	cfg := Impairment{Seed: 3, Delay: 50 * time.Millisecond, Jitter: 20 * time.Millisecond}
	s := &Impair{Impairment: cfg}
	feed := impSteady(n, 5*time.Millisecond)
	outs := impRun(t, s, feed)
	if len(outs) != n {
		t.Fatalf("%d packets out, want %d", len(outs), n)
	}
	// Replay the decisions: each packet leaves exactly at arrival + its
	// delay, and the output is ordered by that time (ties by arrival).
	im := NewImpairer(cfg)
	type exp struct {
		at  time.Duration
		seq uint16
	}
	want := make([]exp, n)
	for i, f := range feed {
		d := im.Decide(time.Unix(0, 0).Add(f.at))
		if d.Delay < 30*time.Millisecond || d.Delay > 70*time.Millisecond {
			t.Fatalf("packet %d: delay %v outside 50 ± 20 ms", i, d.Delay)
		}
		want[i] = exp{f.at + d.Delay, f.seq}
	}
	slices.SortStableFunc(want, func(a, b exp) int { return int(a.at - b.at) })
	inversions := 0
	for i, o := range outs {
		if o.at != want[i].at || o.seq != want[i].seq {
			t.Fatalf("output %d: seq %d at %v, want seq %d at %v", i, o.seq, o.at, want[i].seq, want[i].at)
		}
		if i > 0 && o.seq < outs[i-1].seq {
			inversions++
		}
	}
	// 40 ms of jitter spread over 5 ms spacing reorders a lot.
	if inversions == 0 {
		t.Error("jitter reordered nothing")
	}
	if st := s.Stats(); st.Delayed != n || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
	t.Logf("%d packets, %d out of order", n, inversions)
}

func TestImpairReorder(t *testing.T) {
	const n = 10000
	cfg := Impairment{Seed: 5, Reorder: 0.1}
	s := &Impair{Impairment: cfg}
	outs := impRun(t, s, impSteady(n, time.Millisecond))
	got := impSeqs(outs)
	if len(got) != n {
		t.Fatalf("%d packets out, want %d", len(got), n)
	}
	// Replay: a held packet follows the next one, which is never held
	// itself (it releases the held one).
	im := NewImpairer(cfg)
	var want []uint16
	held := -1
	for i := range n {
		d := im.Decide(time.Unix(0, 0).Add(time.Duration(i) * time.Millisecond))
		switch {
		case held >= 0:
			want = append(want, uint16(i), uint16(held))
			held = -1
		case d.Hold:
			held = i
		default:
			want = append(want, uint16(i))
		}
	}
	if held >= 0 {
		want = append(want, uint16(held))
	}
	if !slices.Equal(got, want) {
		t.Fatal("output order differs from the replayed decisions")
	}
	st := s.Stats()
	swaps := 0
	for i := 1; i < n; i++ {
		if got[i] < got[i-1] {
			swaps++
		}
	}
	// Held with probability 0.1 unless the previous one was: 0.1/1.1.
	rate := float64(st.Reordered) / n
	t.Logf("reordered %d (%.2f %%), %d swaps", st.Reordered, rate*100, swaps)
	if uint64(swaps) != st.Reordered {
		t.Errorf("%d swaps in the output, Reordered %d", swaps, st.Reordered)
	}
	if math.Abs(rate-0.1/1.1) > 0.01 {
		t.Errorf("reorder rate %.3f, want %.3f ± 0.01", rate, 0.1/1.1)
	}
}

func TestImpairDuplicate(t *testing.T) {
	const n = 10000
	s := &Impair{Impairment: Impairment{Seed: 9, Duplicate: 0.01}}
	outs := impRun(t, s, impSteady(n, time.Millisecond))
	st := s.Stats()
	if len(outs) != n+int(st.Duplicated) {
		t.Fatalf("%d packets out, want %d + %d duplicates", len(outs), n, st.Duplicated)
	}
	count := make(map[uint16]int)
	for _, o := range outs {
		count[o.seq]++
	}
	twice := 0
	for i := range n {
		switch count[uint16(i)] {
		case 1:
		case 2:
			twice++
		default:
			t.Fatalf("seq %d came out %d times", i, count[uint16(i)])
		}
	}
	if uint64(twice) != st.Duplicated {
		t.Errorf("%d duplicated in the output, Duplicated %d", twice, st.Duplicated)
	}
	// σ ≈ 10: 1 % ± 0.3 pp is 3σ.
	if math.Abs(float64(twice)*100/n-1) > 0.3 {
		t.Errorf("duplicated %.2f %%, want 1 ± 0.3", float64(twice)*100/n)
	}
	if !slices.IsSorted(impSeqs(outs)) {
		t.Error("undelayed duplicates should follow their original at once")
	}
}

func TestImpairOutage(t *testing.T) {
	const n = 500
	s := &Impair{Impairment: Impairment{Outages: []Outage{{After: time.Second, For: 2 * time.Second}}}}
	// The first packet comes at 100 ms: the outage runs from 1.1 s to 3.1 s.
	feed := make([]impFeed, n)
	for i := range feed {
		feed[i] = impFeed{at: 100*time.Millisecond + time.Duration(i)*10*time.Millisecond, seq: uint16(i)}
	}
	outs, events := impRunEvents(t, s, feed)
	lost := impMissing(outs, n)
	if loss, outage := impDropReasons(events); loss != 0 || outage != 200 {
		t.Errorf("drops reported: %d for loss, %d for an outage; want 0 and 200", loss, outage)
	}
	var want []uint16
	for i := 100; i < 300; i++ { // arrivals at 1.1 s … 3.09 s
		want = append(want, uint16(i))
	}
	if !slices.Equal(lost, want) {
		t.Errorf("outage dropped %d packets (%v…), want seqs 100..299", len(lost), lost[:min(3, len(lost))])
	}
	if st := s.Stats(); st.Dropped != 200 {
		t.Errorf("Dropped %d, want 200", st.Dropped)
	}
}

func TestImpairRTCPPasses(t *testing.T) {
	var feed []impFeed
	for i := range 100 {
		feed = append(feed, impFeed{at: time.Duration(i) * time.Millisecond, seq: uint16(i), rtcp: i%10 == 0})
	}
	s := &Impair{Impairment: Impairment{Loss: 1, Delay: time.Second}}
	outs := impRun(t, s, feed)
	if len(outs) != 10 {
		t.Fatalf("%d packets out, want the 10 RTCP ones", len(outs))
	}
	for _, o := range outs {
		if !o.rtcp || o.at != time.Duration(o.seq)*time.Millisecond {
			t.Errorf("%+v: want RTCP, undelayed", o)
		}
	}
	if st := s.Stats(); st.In != 90 || st.Dropped != 90 {
		t.Errorf("stats %+v: want 90 RTP in, 90 dropped", st)
	}
	// With ImpairRTCP the RTCP packets are lost too.
	s = &Impair{Impairment: Impairment{Loss: 1}, ImpairRTCP: true}
	if outs := impRun(t, s, feed); len(outs) != 0 {
		t.Errorf("%d packets out with ImpairRTCP and Loss 1", len(outs))
	}
}

// Cancelling releases what is still delayed or held.
func TestImpairCancelReleases(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pool := pipeline.NewPacketPool(16, 16)
		s := &Impair{Impairment: Impairment{Delay: time.Hour, Reorder: 1}, Pool: pool}
		in := make(chan *pipeline.Packet, 4)
		for i := range 3 {
			pk := pool.Get()
			pk.Data = pk.Data[:16]
			pk.Data[15] = byte(i + 1)
			in <- pk
		}
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- s.Run(ctx, in, make(chan *pipeline.Packet)) }()
		synctest.Wait()
		cancel()
		if err := <-errc; err != context.Canceled {
			t.Fatalf("Run: %v, want context.Canceled", err)
		}
		got := 0
		for {
			pk := pool.Get()
			if pk.Data[15] == 0 {
				break
			}
			pk.Data[15] = 0
			got++
		}
		if got != 3 {
			t.Errorf("%d of 3 packets released", got)
		}
	})
}
