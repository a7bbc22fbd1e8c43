package actors

import (
	"fmt"
	"time"
)

// The messages a session actor understands. Every change of a session's
// state is one of them: nothing outside the actor changes it. Requests
// carry a buffered reply channel: the actor answers when the operation is
// complete (PAUSE answers once the stream has stopped), never blocking,
// and the caller waits on the channel with its own deadline.
type (
	// Setup is a session's first message (RFC 2326 §10.4): it hands the
	// actor the media side the engine prepared (media, transport,
	// sockets), which the actor owns from then on and closes when the
	// session ends, and takes the session from Init to Ready.
	Setup struct {
		Stream Stream
		// Seq is the sequence number of the session's first RTP packet:
		// random in RFC 3550 sessions (§5.1), 1 in the lab dialect.
		Seq   uint16
		Reply chan<- Reply
	}
	// Play starts or resumes streaming. Seek, when set, moves to that
	// position first (RTSP "Range: npt=").
	Play struct {
		Seek  *time.Duration
		Reply chan<- PlayReply
	}
	// Pause stops streaming and keeps the position.
	Pause struct{ Reply chan<- Reply }
	// Teardown ends the session.
	Teardown struct{ Reply chan<- Reply }
	// KeepAlive marks the session as in use and answers with its state
	// (GET_PARAMETER: the reply also tells the caller the session still
	// exists).
	KeepAlive struct{ Reply chan<- Reply }
	// Activity is a sign of life from the client that needs no answer:
	// an RTCP report, data on the session's connection, a request naming
	// the session. It is the cheap KeepAlive; senders coalesce it (at
	// most one per second or so per session) so that thousands of
	// sessions reporting RTCP do not flood mailboxes.
	Activity struct{}
	// Close ends the session without a reply, e.g. because its RTSP
	// connection closed or the server shuts down. Reason is logged.
	Close struct{ Reason string }
)

// Reply answers Setup, Pause, Teardown and KeepAlive.
type Reply struct {
	Err   error // nil or a *StatusError
	State State // the session's state after the request
}

// PlayReply answers Play with what RTP-Info and Range need.
type PlayReply struct {
	Err     error
	Seq     uint16        // sequence number of the first packet that will be sent
	RTPTime uint32        // its RTP timestamp
	From    time.Duration // media position streaming starts at
}

// StatusError is a request refused with an RTSP status code.
type StatusError struct {
	Code   int
	Reason string
}

func (e *StatusError) Error() string { return fmt.Sprintf("%d %s", e.Code, e.Reason) }

// ErrMethodNotValid answers requests not valid in the session's state.
var ErrMethodNotValid = &StatusError{455, "Method Not Valid in This State"}

// internal messages
type (
	pipelineDone struct {
		gen int
		err error
	}
	idleCheck struct{}
)
