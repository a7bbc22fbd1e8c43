package actors

import (
	"errors"
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
	// TeardownCmd ends the session; a reusable player is then ready
	// for a new SETUP, unless Final (a frame limit reached: the client is
	// done).
	TeardownCmd struct {
		Final bool
		Reply chan<- error
	}
)

// What the player's I/O learns, sent to the player by the goroutines that
// learn it (the connection's reader, the receiving side's watcher). They
// report facts; the player decides what they mean in its state.
type (
	// ServerResponse is a response read from the RTSP connection.
	ServerResponse struct{ Response *rtsp.Response }
	// ConnClosed reports that the RTSP connection ended: Err nil when
	// the server closed it in an orderly way (end of file), Bye when the
	// stream had ended with an RTCP BYE before.
	ConnClosed struct {
		Err error
		Bye bool
	}
	// StreamEnded reports that the media stopped for good (RTCP BYE, or a
	// receiving pipeline that failed); a playing session is torn down.
	StreamEnded struct{ Reason string }
	// MediaArrived reports that Packets RTP packets have been received so
	// far in the session. Sent when the count grew (a few times a second
	// at most), it is what the UDP → TCP fallback and the end after
	// silence (PlayerConfig.IdleEnd) go by.
	MediaArrived struct{ Packets uint64 }
	// Redialed reports that the connection was replaced (PlayerHooks.Redial),
	// or why not.
	Redialed struct{ Err error }
)

// internal timers
type (
	keepaliveTick struct{ gen int }
	udpCheck      struct{ gen int }
	silenceCheck  struct{ gen int }
)

// ErrServerClosed ends a session whose server closed the RTSP connection
// while the stream played, without ending it first (no RTCP BYE): the
// server died, or dropped the client.
var ErrServerClosed = errors.New("the server closed the connection while the stream was playing")
