package server

import (
	"time"

	"github.com/actorstream/actorstream/actors"
)

// A session's idle timeout lives in its actor, which hears of the client's
// signs of life as messages: RTCP reports on the shared ports, data on the
// session's connection (TCP interleaved), requests naming the session.
// RTCP arrives about once a second per session and interleaved data can
// come far more often, so sending a message for each would make thousands
// of sessions a steady flood of mailbox traffic for nothing: the actor
// only needs to know that the client was alive recently. alive therefore
// passes on at most one actors.Activity per keepAliveEvery and drops the
// rest. The first sign of life after a quiet spell always goes through,
// so the actor's idea of the last one is late by less than keepAliveEvery
// (a quarter of the timeout at most) and the session ends that much early
// at worst.

// keepAliveEvery is the least time between two Activity messages to a
// session whose idle timeout is timeout; 0 (no timeout) means none are
// needed.
func keepAliveEvery(timeout time.Duration) time.Duration {
	if timeout <= 0 {
		return 0
	}
	return min(time.Second, timeout/4)
}

// alive reports a sign of life of the session's client at now, coalesced
// as described above. It is safe from any goroutine and never blocks.
func (r *sessionRef) alive(now time.Time) {
	if r.keepAliveEvery <= 0 {
		return
	}
	t, last := now.UnixNano(), r.lastAlive.Load()
	if t-last < int64(r.keepAliveEvery) || !r.lastAlive.CompareAndSwap(last, t) {
		return // one was sent less than keepAliveEvery ago, or another goroutine sends it
	}
	r.root.Send(r.pid, &actors.Activity{})
}
