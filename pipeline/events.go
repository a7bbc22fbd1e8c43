package pipeline

import (
	"context"
	"fmt"
)

// EventKind says what an Event reports.
type EventKind int

const (
	// Progress: a stage handled N more values (frames written, packets sent).
	Progress EventKind = iota
	// Drop: a stage dropped N values on purpose (late, corrupt, no room);
	// Err says why.
	Drop
	// Warning: something went wrong that did not stop the stage.
	Warning
)

func (k EventKind) String() string {
	switch k {
	case Progress:
		return "progress"
	case Drop:
		return "drop"
	case Warning:
		return "warning"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is what a stage tells the application while it runs. Like
// GStreamer's bus, it goes from stages to the application, never the
// other way: a stage reports and carries on.
type Event struct {
	Stage string // filled in by Report
	Kind  EventKind
	N     uint64
	Err   error
}

type stageKey struct{}

type stageInfo struct {
	name    string
	onEvent func(Event)
}

// OnEvent adds f to the listeners that receive every stage's events, in
// the order they were added: a factory's own listener and the server's
// logging can both hear a pipeline. A listener runs on the reporting
// stage's goroutine (or its executor's), so it must be quick and must not
// block. Add listeners before Run.
func (p *Pipeline) OnEvent(f func(Event)) {
	if prev := p.onEvent; prev != nil {
		p.onEvent = func(e Event) { prev(e); f(e) }
		return
	}
	p.onEvent = f
}

// StageContext returns ctx as a stage named name runs with it in a
// pipeline whose listener is onEvent (nil: none): Report and StageName
// called with it name the stage. Run and executors make the contexts of
// their stages with it; use it to call a stage's methods outside a
// pipeline (a test, a benchmark) and still hear what it reports.
func StageContext(ctx context.Context, name string, onEvent func(Event)) context.Context {
	return context.WithValue(ctx, stageKey{}, &stageInfo{name: name, onEvent: onEvent})
}

// Report sends e from the stage that runs with ctx to its pipeline's
// OnEvent, naming the stage. Outside a pipeline, or with no OnEvent, it
// does nothing.
func Report(ctx context.Context, e Event) {
	info, ok := ctx.Value(stageKey{}).(*stageInfo)
	if !ok || info.onEvent == nil {
		return
	}
	e.Stage = info.name
	info.onEvent(e)
}

// StageName is the name of the stage running with ctx ("" outside a
// pipeline).
func StageName(ctx context.Context) string {
	if info, ok := ctx.Value(stageKey{}).(*stageInfo); ok {
		return info.name
	}
	return ""
}

// FrameError is the Err of an event about one frame: which frame (its
// Index in the media) and what was wrong with it.
type FrameError struct {
	Index int
	Err   error
}

func (e *FrameError) Error() string { return fmt.Sprintf("frame %d: %v", e.Index, e.Err) }

// Unwrap returns what was wrong with the frame.
func (e *FrameError) Unwrap() error { return e.Err }

// ReportDrop reports that the stage running with ctx dropped n values
// because of err (a *FrameError when it is about one frame).
func ReportDrop(ctx context.Context, n uint64, err error) {
	Report(ctx, Event{Kind: Drop, N: n, Err: err})
}
