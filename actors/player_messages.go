package actors

import (
	"time"

	"github.com/actorstream/actorstream/internal/rtsp"
)

// User commands to a player actor. Each carries a buffered reply channel
// that receives nil or an error a person can read once the server has
// answered.
type (
	// SetupCmd describes the stream and sets up its transport.
	SetupCmd struct{ Reply chan<- error }
	// PlayCmd starts or resumes playing; Seek, when set, moves first.
	PlayCmd struct {
		Seek  *time.Duration
		Reply chan<- error
	}
	// PauseCmd pauses playing.
	PauseCmd struct{ Reply chan<- error }
	// TeardownCmd ends the session.
	TeardownCmd struct{ Reply chan<- error }
)

// Server-side events, sent to the player by the connection's reader
// goroutine.
type (
	// ServerResponse is a response read from the RTSP connection.
	ServerResponse struct{ Response *rtsp.Response }
	// ConnClosed reports that the RTSP connection ended.
	ConnClosed struct{ Err error }
	// StreamEnded reports that the media stopped for good (RTCP BYE, or
	// the end of the announced range).
	StreamEnded struct{ Reason string }
)

// internal timers
type (
	requestTimeout struct{ cseq int }
	keepaliveTick  struct{ gen int }
	udpCheck       struct{ gen int }
)
