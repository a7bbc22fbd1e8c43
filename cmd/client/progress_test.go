package main

import (
	"bytes"
	"testing"
	"time"
)

// TestProgressOnAPipe: written to something other than a terminal, the
// recording's progress is plain lines, a few seconds apart, without '\r'.
func TestProgressOnAPipe(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, func() int64 { return 1234 })
	start := time.Now()
	for i := range 13 { // a frame a second for 12 s
		p.add(start.Add(time.Duration(i)*time.Second), 1)
	}
	p.endLine()
	p.summary("rec.avi")
	want := "recorded 1 frame, 1234 bytes\n" + // at once
		"recorded 6 frames, 1234 bytes\n" + // 5 s later
		"recorded 11 frames, 1234 bytes\n" +
		"recorded 13 frames, 1234 bytes to rec.avi\n"
	if out.String() != want {
		t.Errorf("got\n%q\nwant\n%q", out.String(), want)
	}
}

// TestProgressOnATerminal: on a terminal the line is rewritten in place
// each second, and ended before anything else is written.
func TestProgressOnATerminal(t *testing.T) {
	var out bytes.Buffer
	p := &progress{w: &out, tty: true, every: progressTTYEvery, size: func() int64 { return 9 }}
	start := time.Now()
	p.add(start, 1)
	p.add(start.Add(500*time.Millisecond), 1) // too soon
	p.add(start.Add(time.Second), 1)
	p.endLine()
	p.summary("rec.mjpeg")
	want := "\rrecorded 1 frame, 9 bytes \rrecorded 3 frames, 9 bytes \nrecorded 3 frames, 9 bytes to rec.mjpeg\n"
	if out.String() != want {
		t.Errorf("got\n%q\nwant\n%q", out.String(), want)
	}
}

func TestFramesSingular(t *testing.T) {
	for n, want := range map[int]string{0: "0 frames", 1: "1 frame", 2: "2 frames"} {
		if got := frames(n); got != want {
			t.Errorf("frames(%d) = %q, want %q", n, got, want)
		}
	}
}
