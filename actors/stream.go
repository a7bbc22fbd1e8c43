package actors

import (
	"sync/atomic"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// Stream is the media side of one session, prepared by the engine at SETUP
// (the file, the transport and its sockets) and handed to the session
// actor in its Setup message. The session actor decides when, from where
// and from which RTP sequence number to play; the Stream builds the
// pipeline that does it.
//
// The session runs at most one pipeline at a time and waits for it to
// finish before building the next, so a Stream may keep per-stream state
// (a packetizer, the SSRC) without locks. Only LastSent is read while a
// pipeline runs.
type Stream interface {
	// Pipeline builds the pipeline for one PLAY: its first frame is
	// spec.StartIndex, its first RTP packet carries spec.Seq.
	Pipeline(spec PlaySpec) *pipeline.Pipeline
	// LastSent is the sequence number of the last RTP packet sent to the
	// client; ok is false before the first. The pipeline's sink records
	// it (atomically) as it sends, so it may be read while a pipeline
	// runs, and once the pipeline has stopped it is final: packets a
	// pipeline made but never sent do not count.
	LastSent() (seq uint16, ok bool)
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

// PlaySpec says what one PLAY streams. The session actor owns all of it:
// the Position it passes is its own, updated by the pipeline's pacer.
type PlaySpec struct {
	StartIndex int           // first frame to send
	Start      time.Time     // wall-clock time at which it is due
	BaseTime   uint32        // its RTP timestamp
	Seq        uint16        // sequence number of the first RTP packet
	Position   *atomic.Int64 // updated with the index of each frame sent
}
