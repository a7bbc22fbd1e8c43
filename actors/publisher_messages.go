package actors

import (
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// The messages of a Publisher actor beside those it shares with Session
// (Pause, Teardown, KeepAlive, Activity, Close, and Play, which it
// refuses). Like a session's, each carries a buffered reply channel.
type (
	// Announce is a publisher's first message (RFC 2326 §10.3): the engine
	// has read the stream's description; the publisher claims its path
	// (PublisherConfig.OnAnnounce) and becomes Announced.
	Announce struct{ Reply chan<- Reply }
	// RecordSetup is SETUP with mode=record (RFC 2326 §10.4, §12.39): it
	// hands the actor the receiving side the engine prepared (transport,
	// sockets), which the actor owns from then on, and takes the
	// publisher from Announced to Ready.
	RecordSetup struct {
		Intake Intake
		Reply  chan<- Reply
	}
	// Record starts (or resumes after PAUSE) receiving the publisher's
	// media: Ready → Recording (RFC 2326 §10.11).
	Record struct{ Reply chan<- Reply }
	// Evict ends a publisher that another has replaced on its path
	// (takeover): unlike Close, it counts as the publisher's fault, so the
	// engine closes its connection, the only way to tell it.
	Evict struct{ Reason string }
)

// Intake is the receiving side of one publisher, prepared by the engine
// at SETUP: the transport the publisher sends on, and the pipeline that
// checks what it sends and hands complete frames to the path's viewers.
// The publisher actor decides when it runs; only Progress is read while
// a pipeline runs.
type Intake interface {
	// Pipeline builds the receiving pipeline of one RECORD. It ends with
	// an error when the publisher sends what cannot be a JPEG stream.
	Pipeline() *pipeline.Pipeline
	// Progress is what the running or last pipeline has received so far
	// (atomics: safe while it runs).
	Progress() IntakeProgress
	// Close releases the transport. It must not block.
	Close()
}

// IntakeProgress counts what a publisher has sent.
type IntakeProgress struct {
	Packets   uint64    // datagrams or interleaved frames received, RTCP included
	Frames    uint64    // complete frames handed on
	Dropped   uint64    // incomplete frames dropped (a fragment lost)
	Bad       uint64    // packets that are not RTP JPEG of the announced payload type
	LastFrame time.Time // arrival of the last complete frame; zero before the first
	// LastCaptured is when the publisher says it captured that frame, by
	// its own clock (its RTCP Sender Reports' NTP↔RTP mapping); zero
	// before its first Sender Report.
	LastCaptured time.Time
	Bye          bool // the publisher said goodbye on RTCP
}
