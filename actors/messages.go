package actors

import (
	"fmt"
	"time"
)

// The messages a session actor understands. Requests carry a buffered
// reply channel: the actor answers when the operation is complete (PAUSE
// answers once the stream has stopped), never blocking, and the caller
// waits on the channel with its own deadline.
type (
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
	// KeepAlive marks the session as in use (GET_PARAMETER, OPTIONS with
	// a Session header, or any request naming it).
	KeepAlive struct{ Reply chan<- Reply }
	// Close ends the session without a reply, e.g. because its RTSP
	// connection closed or the server shuts down. Reason is logged.
	Close struct{ Reason string }
)

// Reply answers Pause, Teardown and KeepAlive.
type Reply struct {
	Err   error  // nil or a *StatusError
	State string // the session's state after the request
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
