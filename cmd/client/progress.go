package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// How often the recording's progress is told: on a terminal the line is
// rewritten in place, so it may change often; in a pipe or a log file every
// report is a line of its own, so they come seldom.
const (
	progressTTYEvery   = time.Second
	progressPlainEvery = 5 * time.Second
)

// progress tells how a recording grows, on w: on a terminal one line
// rewritten in place ("\r"), elsewhere a plain line now and then.
type progress struct {
	w     io.Writer
	tty   bool
	every time.Duration
	size  func() int64 // the recording's size in bytes so far

	mu     sync.Mutex
	frames int
	last   time.Time // of the last report; zero: none yet
	open   bool      // a "\r" line is on the terminal without its newline
}

func newProgress(w io.Writer, size func() int64) *progress {
	p := &progress{w: w, size: size, every: progressPlainEvery}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty, p.every = true, progressTTYEvery
	}
	return p
}

// add counts n more frames recorded at now, reporting when the last report
// is old enough (the first frame is reported at once).
func (p *progress) add(now time.Time, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frames += n
	if !p.last.IsZero() && now.Sub(p.last) < p.every {
		return
	}
	p.last = now
	if p.tty {
		fmt.Fprintf(p.w, "\rrecorded %s, %d bytes ", frames(p.frames), p.size())
		p.open = true
		return
	}
	fmt.Fprintf(p.w, "recorded %s, %d bytes\n", frames(p.frames), p.size())
}

// endLine ends the terminal's progress line, so that what is written next
// starts on a line of its own.
func (p *progress) endLine() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open {
		fmt.Fprintln(p.w)
		p.open = false
	}
}

// summary tells the recording's final count.
func (p *progress) summary(path string) {
	p.endLine()
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "recorded %s, %d bytes to %s\n", frames(p.frames), p.size(), path)
}

// frames is "1 frame" or "n frames".
func frames(n int) string {
	if n == 1 {
		return "1 frame"
	}
	return fmt.Sprintf("%d frames", n)
}
