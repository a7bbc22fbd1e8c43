package pipeline

import (
	"context"
	"errors"
	"fmt"
)

// Executor runs part of a pipeline its own way instead of one goroutine
// per stage with channels between them. A pipeline is a description: its
// stages are values (what From, Then and To were given) joined by ports,
// and an executor that recognises some of those values — by interface
// assertion, the way io.Copy finds an io.WriterTo — can run them without
// the goroutines and channels. The server's shared Scheduler (package
// pipeline/scheduler) is one: it steps PacedSource → Pacing → PacedSink
// from a deadline heap.
//
// RunOn asks the executor for its Claim once the pipeline is built; Run
// then runs the claim on the executor and every other stage on a
// goroutine of its own, as without an executor.
type Executor interface {
	// Claim looks at a pipeline's stages, in the order they were added,
	// and returns the part it will run, or an error saying why it runs
	// none (a *FallbackError names the stage that prevented it). A nil
	// Claim and a nil error mean nothing to claim and nothing wrong. It
	// must not start anything: Run does.
	Claim(stages []Element) (*Claim, error)
}

// Claim is the part of a pipeline an executor runs.
type Claim struct {
	// Stages are the stages claimed. No channel may cross a claim's edge:
	// a stage feeding a claimed stage, or reading a claimed stage's
	// output, is claimed too (RunOn checks).
	Stages []Element
	// Run runs the claimed stages until they are done (nil), ctx ends
	// (ctx's error) or one of them fails: its error, as a *StageError
	// naming it (other errors are put down to the claim as a whole). It
	// gives each stage the context Element.Context makes, so that what
	// the stage reports names it. A claim holding a sink counts as a sink
	// of the pipeline.
	Run func(ctx context.Context) error
}

// Element is what an executor sees of one stage of a pipeline.
type Element struct {
	Name  string
	Value any // the Source, Stage or Sink given to From, Then or To

	p     *Pipeline
	index int
}

func (e Element) stage() *stage { return &e.p.stages[e.index] }

// HasInput reports whether the stage reads a channel (it was added with
// Then or To).
func (e Element) HasInput() bool { return e.stage().in != nil }

// HasOutput reports whether the stage feeds a channel (it was added with
// From or Then).
func (e Element) HasOutput() bool { return e.stage().out != nil }

// Input is the stage of the same pipeline whose output e reads; ok is
// false for a source, and for a stage reading a channel from outside the
// pipeline.
func (e Element) Input() (in Element, ok bool) {
	st := e.stage()
	if st.in == nil {
		return Element{}, false
	}
	for i := range e.p.stages {
		if e.p.stages[i].out == st.in {
			return e.p.element(i), true
		}
	}
	return Element{}, false
}

// Readers are the stages reading e's output (usually one; none for a
// sink).
func (e Element) Readers() []Element {
	out := e.stage().out
	if out == nil {
		return nil
	}
	var readers []Element
	for i := range e.p.stages {
		if e.p.stages[i].in == out {
			readers = append(readers, e.p.element(i))
		}
	}
	return readers
}

// Context returns ctx as the stage runs with it: Report, ReportDrop and
// StageName called with it name the stage, and its events reach the
// pipeline's listeners. An executor calls the stage's methods with it.
func (e Element) Context(ctx context.Context) context.Context {
	return e.p.stageContext(ctx, e.Name)
}

func (p *Pipeline) element(i int) Element {
	return Element{Name: p.stages[i].name, Value: p.stages[i].value, p: p, index: i}
}

// FallbackError is why an executor runs none of a pipeline, which then
// runs on goroutines: Stage names the stage that prevented it ("" when no
// one stage did), Reason says why.
type FallbackError struct {
	Stage  string
	Reason string
}

func (e *FallbackError) Error() string {
	if e.Stage == "" {
		return e.Reason
	}
	return fmt.Sprintf("stage %s: %s", e.Stage, e.Reason)
}

// Goroutines is the executor of every stage that no other executor runs:
// a goroutine per stage, channels between them. It claims nothing; a
// pipeline given it with RunOn runs wholly on goroutines even where its
// owner would have offered it another executor.
var Goroutines Executor = goroutines{}

type goroutines struct{}

func (goroutines) Claim([]Element) (*Claim, error) { return nil, nil }

// RunOn offers p to exec: what exec claims, Run runs on exec; the other
// stages run on goroutines. Call it once p is built, before Run. It
// returns nil when exec claimed some of p (or had nothing to claim, like
// Goroutines), or why it claimed none, in which case p runs wholly on
// goroutines: a *FallbackError from the executor, or an error about a
// claim that breaks the rules of Claim.
func (p *Pipeline) RunOn(exec Executor) error {
	p.exec, p.claim = exec, nil
	elements := make([]Element, len(p.stages))
	for i := range p.stages {
		elements[i] = p.element(i)
	}
	claim, err := exec.Claim(elements)
	if err != nil {
		return err
	}
	if claim == nil {
		return nil
	}
	if err := p.checkClaim(claim); err != nil {
		return err
	}
	p.claim = claim
	return nil
}

// Executor is the executor RunOn was given (whether or not it claimed
// anything), or nil.
func (p *Pipeline) Executor() Executor { return p.exec }

// Claimed names the stages an executor claimed (see RunOn), in the order
// they were added; none when every stage runs on a goroutine.
func (p *Pipeline) Claimed() []string {
	if p.claim == nil {
		return nil
	}
	claimed := make([]bool, len(p.stages))
	for _, e := range p.claim.Stages {
		claimed[e.index] = true
	}
	var names []string
	for i, st := range p.stages {
		if claimed[i] {
			names = append(names, st.name)
		}
	}
	return names
}

// checkClaim enforces the rules of Claim: stages of p, each once, and no
// channel crossing the claim's edge, so that no stage left to a goroutine
// waits on a port nobody serves.
func (p *Pipeline) checkClaim(c *Claim) error {
	if c.Run == nil || len(c.Stages) == 0 {
		return errors.New("pipeline: a claim with no stages or no Run")
	}
	claimed := make([]bool, len(p.stages))
	for _, e := range c.Stages {
		if e.p != p || e.index < 0 || e.index >= len(p.stages) || claimed[e.index] {
			return fmt.Errorf("pipeline: claim of stage %q: not a stage of this pipeline, or claimed twice", e.Name)
		}
		claimed[e.index] = true
	}
	for _, e := range c.Stages {
		if e.HasInput() {
			in, ok := e.Input()
			if !ok || !claimed[in.index] {
				return &FallbackError{Stage: e.Name, Reason: "claimed, but its input is not"}
			}
		}
		for _, r := range e.Readers() {
			if !claimed[r.index] {
				return &FallbackError{Stage: r.Name, Reason: "reads a claimed stage's output but is not claimed"}
			}
		}
	}
	return nil
}
