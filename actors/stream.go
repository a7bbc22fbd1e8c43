package actors

import (
	"sync/atomic"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// Stream is the media side of one session, prepared by the engine at SETUP:
// the file, the transport and its sockets. The session actor decides when
// and from where to play; the Stream builds the pipeline that does it.
//
// The session runs at most one pipeline at a time and waits for it to
// finish before building the next, so a Stream may keep per-stream state
// (sequence numbers, SSRC) without locks.
type Stream interface {
	// Pipeline builds the pipeline for one PLAY.
	Pipeline(spec PlaySpec) *pipeline.Pipeline
	// NextSeq is the RTP sequence number the next packet will carry.
	NextSeq() uint16
	// FPS is the stream's frame rate; Duration is 0 for endless streams.
	FPS() float64
	Duration() time.Duration
	// Ended tells the client the media has ended (an RTCP BYE where the
	// transport has RTCP) while the session stays open for a new PLAY.
	// It must not block.
	Ended()
	// Close releases the stream's resources (announcing the end with an
	// RTCP BYE where the transport has RTCP). It must not block.
	Close()
}

// PlaySpec says what one PLAY streams.
type PlaySpec struct {
	StartIndex int           // first frame to send
	Start      time.Time     // wall-clock time at which it is due
	BaseTime   uint32        // its RTP timestamp
	Position   *atomic.Int64 // updated with the index of each frame sent
}
