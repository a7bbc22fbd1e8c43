package send

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// gatherMax is how many sinks' batches one sendmmsg carries: what the
// kernel takes in one call (UIO_MAXIOV is 1024 messages) is far more,
// but 64 keeps the gatherer's arrays small while cutting the system
// calls 64-fold.
const gatherMax = 64

// UDPGatherer sends the batches of many UDPSinks that share one socket
// (the server's port pair of a shard: a live path's viewers on it) in
// one sendmmsg system call per 64 sinks, each batch one UDP GSO message
// (pipeline.Gatherer). Each sink does the rest as its SendBatch would:
// its statistics, its Sender Reports, packets a gone client refused
// counted as its drops. Batches it cannot carry in one message (GSO off,
// frames of several runs), and every batch where the platform has no
// sendmmsg and GSO, are left to the sink's SendBatch.
//
// Set a UDPSink's Gather to share one among the sinks of a socket; it
// is used from one goroutine at a time (the Scheduler's shard).
type UDPGatherer struct {
	Conn *net.UDPConn

	n       int
	sinks   [gatherMax]*UDPSink
	ctxs    [gatherMax]context.Context
	batches [gatherMax]*pipeline.Batch
	mmsg    udpMMsg // see udpgather_*.go
}

// Gather takes b for sink when it is one message: a UDPSink of the
// gatherer's socket whose batch GSO sends in one run.
func (u *UDPGatherer) Gather(ctx context.Context, sink pipeline.PacedSink, b *pipeline.Batch, now time.Time) bool {
	s, ok := sink.(*UDPSink)
	if !ok || s.Conn != u.Conn || s.NoGSO || len(b.Packets) < 2 || gsoRun(b, 0) != len(b.Packets) || !u.mmsg.usable() {
		return false
	}
	if u.n == gatherMax {
		_ = u.Flush(now) // a closed socket: the next Flush says so again
	}
	if !u.mmsg.add(u.n, s, b) {
		return false
	}
	u.sinks[u.n], u.ctxs[u.n], u.batches[u.n] = s, ctx, b
	u.n++
	return true
}

// Flush sends the gathered batches, then each sink notes what went out
// (or sends per packet what GSO was refused) as SendBatch would.
func (u *UDPGatherer) Flush(now time.Time) error {
	if u.n == 0 {
		return nil
	}
	err := u.mmsg.send(u.Conn, u.n)
	for i := range u.n {
		s, ctx, b := u.sinks[i], u.ctxs[i], u.batches[i]
		if err == nil {
			s.gathered(ctx, b, u.mmsg.result(i, s), now)
		}
		b.Release()
		u.sinks[i], u.ctxs[i], u.batches[i] = nil, nil, nil
	}
	u.n = 0
	return err
}

// Gatherer is the sink's gatherer (pipeline.GatheringSink).
func (s *UDPSink) Gatherer() pipeline.Gatherer {
	if s.Gather == nil {
		return nil
	}
	return s.Gather
}

// gathered finishes a batch a UDPGatherer sent (err: how its message
// fared) as send and SendBatch would have.
func (s *UDPSink) gathered(ctx context.Context, b *pipeline.Batch, err error, now time.Time) {
	n := len(b.Packets)
	if err == nil {
		s.count(n, s.sentRun(b, 0, n, now))
	} else if !errors.Is(err, net.ErrClosed) {
		s.gsoRefused(ctx, err)
		sent, bytes, _ := s.sendEach(ctx, b, 0, n, now)
		s.count(sent, bytes)
	}
	s.reportIfDue(ctx, now)
}
