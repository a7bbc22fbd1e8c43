package tools

import (
	"container/heap"
	"context"
	"errors"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// Outage is a window in which every packet is dropped: from After to
// After+For, measured from the first packet the impairment saw.
type Outage struct {
	After, For time.Duration
}

// GilbertElliott is the two-state burst-loss model: each packet first moves
// the channel between its good and bad state (PGoodToBad, PBadToGood), then
// is lost with the loss probability of the state it is in. The mean burst
// (time in the bad state) is 1/PBadToGood packets; the long-run loss is
// (PBadToGood·LossGood + PGoodToBad·LossBad) / (PGoodToBad + PBadToGood).
type GilbertElliott struct {
	PGoodToBad, PBadToGood float64
	LossGood, LossBad      float64
}

// Impairment describes what a lossy network does to a packet stream. The
// zero value changes nothing. Every random choice comes from a PCG
// generator seeded with Seed, and each packet consumes the same number of
// draws whatever happens to it, so one seed gives the same decisions for
// the same packet sequence, and enabling one impairment does not change
// which packets another one picks.
type Impairment struct {
	Seed uint64
	// Loss is the probability that a packet is dropped, independently of
	// the others (on top of Burst and Outages).
	Loss  float64
	Burst *GilbertElliott
	// Each packet is held Delay ± a uniform Jitter (never less than 0);
	// packets may thereby reorder.
	Delay, Jitter time.Duration
	// Reorder is the probability that a packet is held back until the next
	// forwarded packet has gone out (it then follows that one).
	Reorder float64
	// Duplicate is the probability that a forwarded packet is sent twice;
	// the copy gets its own delay draw.
	Duplicate float64
	Outages   []Outage
}

// Decision is what an Impairer decided for one packet.
type Decision struct {
	Drop   bool // lose the packet (Outage tells whether an outage did it)
	Outage bool
	Hold   bool          // hold it back behind the next forwarded packet
	Delay  time.Duration // send it this much later
	// Duplicate asks for a second copy, sent DupDelay after the decision.
	Duplicate bool
	DupDelay  time.Duration
}

// Impairer is the decision logic of an Impairment, without any packet
// handling: the Impair stage and the fault-injection proxy both use it.
// It is not safe for concurrent use.
type Impairer struct {
	cfg     Impairment
	rng     *rand.Rand
	bad     bool // Gilbert-Elliott state
	start   time.Time
	started bool
}

// NewImpairer returns an Impairer for cfg, its generator seeded with
// cfg.Seed.
func NewImpairer(cfg Impairment) *Impairer {
	return &Impairer{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9E3779B97F4A7C15))}
}

// drawsPerPacket is how many numbers Decide draws, whatever it decides.
const drawsPerPacket = 7

// Decide decides the fate of the packet arriving at now. The first call
// starts the clock the outages are measured on.
func (im *Impairer) Decide(now time.Time) Decision {
	var u [drawsPerPacket]float64
	for i := range u {
		u[i] = im.rng.Float64()
	}
	if !im.started {
		im.start, im.started = now, true
	}
	var d Decision
	elapsed := now.Sub(im.start)
	for _, o := range im.cfg.Outages {
		if elapsed >= o.After && elapsed < o.After+o.For {
			d.Drop, d.Outage = true, true
		}
	}
	if ge := im.cfg.Burst; ge != nil {
		if im.bad {
			if u[0] < ge.PBadToGood {
				im.bad = false
			}
		} else if u[0] < ge.PGoodToBad {
			im.bad = true
		}
		loss := ge.LossGood
		if im.bad {
			loss = ge.LossBad
		}
		if u[1] < loss {
			d.Drop = true
		}
	}
	if u[2] < im.cfg.Loss {
		d.Drop = true
	}
	if d.Drop {
		return d
	}
	d.Delay = im.delay(u[3])
	d.Hold = u[4] < im.cfg.Reorder
	if u[5] < im.cfg.Duplicate {
		d.Duplicate = true
		d.DupDelay = im.delay(u[6])
	}
	return d
}

// delay is Delay ± Jitter for a uniform draw u in [0, 1).
func (im *Impairer) delay(u float64) time.Duration {
	d := im.cfg.Delay
	if j := im.cfg.Jitter; j > 0 {
		d += time.Duration((2*u - 1) * float64(j))
	}
	return max(d, 0)
}

// ImpairStats counts what an Impair stage did. In counts the impaired
// (RTP) packets only; Delayed counts forwarded packets sent later than
// they came, Reordered those held behind their successor.
type ImpairStats struct {
	In, Dropped, Duplicated, Reordered, Delayed uint64
}

// The reasons Impair gives for the packets it drops.
var (
	ErrImpairLoss   = errors.New("stages: impair: packet lost (random or burst loss)")
	ErrImpairOutage = errors.New("stages: impair: packet lost in an outage")
)

// Impair simulates a lossy network on the client's packet stream: it drops
// (independently, in Gilbert-Elliott bursts, in outage windows), delays
// with jitter, reorders and duplicates RTP packets as its Impairment says.
// RTCP packets pass at once and unchanged unless ImpairRTCP is set.
//
// Each packet dropped is counted in [ImpairStats] and reported with
// [pipeline.ReportDrop], its Err ErrImpairOutage or ErrImpairLoss.
//
// Delays are kept in a timer heap inside the stage's goroutine. When in
// closes, the packets still delayed are delivered at their time (and a
// held one at once) before Run returns; when ctx ends they are released.
type Impair struct {
	Impairment
	ImpairRTCP bool
	// Pool supplies the duplicates; nil allocates unpooled packets.
	Pool *pipeline.PacketPool

	in, dropped, duplicated, reordered, delayed atomic.Uint64
}

// Stats returns the counters so far; it may be called while Run runs.
func (s *Impair) Stats() ImpairStats {
	return ImpairStats{
		In: s.in.Load(), Dropped: s.dropped.Load(), Duplicated: s.duplicated.Load(),
		Reordered: s.reordered.Load(), Delayed: s.delayed.Load(),
	}
}

// Run impairs packets until in closes and everything delayed has gone out.
func (s *Impair) Run(ctx context.Context, in <-chan *pipeline.Packet, out chan<- *pipeline.Packet) error {
	im := NewImpairer(s.Impairment)
	var (
		q     delayQueue
		seq   uint64 // tie-break: equal due times leave in scheduling order
		held  *pipeline.Packet
		heldT time.Time // when the held packet was due to leave
	)
	defer func() {
		for _, it := range q {
			it.pk.Release()
		}
		if held != nil {
			held.Release()
		}
	}()
	schedule := func(pk *pipeline.Packet, due time.Time) {
		heap.Push(&q, delayed{due: due, seq: seq, pk: pk})
		seq++
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		now := time.Now()
		for len(q) > 0 && !q[0].due.After(now) {
			it := heap.Pop(&q).(delayed)
			if !pipeline.Send(ctx, out, it.pk) {
				it.pk.Release()
				return ctx.Err()
			}
		}
		if in == nil && len(q) == 0 {
			return nil
		}
		var fire <-chan time.Time
		if len(q) > 0 {
			timer.Reset(q[0].due.Sub(now))
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-fire:
			continue
		case pk, ok := <-in:
			if !ok {
				in = nil
				if held != nil {
					schedule(held, heldT)
					held = nil
				}
				continue
			}
			now = time.Now() // the wait may have been long
			if pk.RTCP && !s.ImpairRTCP {
				schedule(pk, now)
				continue
			}
			s.in.Add(1)
			d := im.Decide(now)
			if d.Drop {
				s.dropped.Add(1)
				why := ErrImpairLoss
				if d.Outage {
					why = ErrImpairOutage
				}
				pipeline.ReportDrop(ctx, 1, why)
				pk.Release()
				continue
			}
			if d.Delay > 0 {
				s.delayed.Add(1)
			}
			due := now.Add(d.Delay)
			var dup *pipeline.Packet
			if d.Duplicate {
				s.duplicated.Add(1)
				dup = s.clone(pk) // before pk may leave
			}
			switch {
			case held != nil:
				// pk is the packet the held one waits for: pk first,
				// then the held one, no earlier than its own time.
				schedule(pk, due)
				if due.After(heldT) {
					heldT = due
				}
				schedule(held, heldT)
				held = nil
			case d.Hold:
				s.reordered.Add(1)
				held, heldT = pk, due
			default:
				schedule(pk, due)
			}
			if dup != nil {
				schedule(dup, now.Add(d.DupDelay))
			}
		}
	}
}

func (s *Impair) clone(pk *pipeline.Packet) *pipeline.Packet {
	var c *pipeline.Packet
	if s.Pool != nil {
		c = s.Pool.Get()
		c.Data = append(c.Data[:0], pk.Data...)
	} else {
		c = &pipeline.Packet{Data: append([]byte(nil), pk.Data...)}
	}
	c.RTCP, c.Received = pk.RTCP, pk.Received
	return c
}

// delayed is one packet waiting in the stage's timer heap.
type delayed struct {
	due time.Time
	seq uint64
	pk  *pipeline.Packet
}

type delayQueue []delayed

func (q delayQueue) Len() int { return len(q) }
func (q delayQueue) Less(i, j int) bool {
	if !q[i].due.Equal(q[j].due) {
		return q[i].due.Before(q[j].due)
	}
	return q[i].seq < q[j].seq
}
func (q delayQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *delayQueue) Push(x any)   { *q = append(*q, x.(delayed)) }
func (q *delayQueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	old[len(old)-1] = delayed{}
	*q = old[:len(old)-1]
	return it
}
