package main

import (
	"math"
	"slices"
	"testing"
)

func TestWithBefore(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{[]string{"ours", "gst", "raw-gso"}, []string{"ours", "before", "gst", "raw-gso"}},
		{[]string{"gst", "ours"}, []string{"gst", "ours", "before"}},
		{[]string{"gst"}, []string{"before", "gst"}},
		{[]string{"before", "ours"}, []string{"before", "ours"}}, // named: left as given
	} {
		if got := withBefore(tc.in, "ours", "before"); !slices.Equal(got, tc.want) {
			t.Errorf("withBefore(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	// The summary puts before beside ours whatever the order measured.
	if got := beforeBesideOurs([]string{"before", "gst", "ours", "raw-gso"}, "ours", "before"); !slices.Equal(got, []string{"gst", "ours", "before", "raw-gso"}) {
		t.Errorf("beforeBesideOurs: %v", got)
	}
}

// TestOursBeforeRatio: ours/before is taken within each run, and its
// median over the runs is what the report prints.
func TestOursBeforeRatio(t *testing.T) {
	step := func(run int, server string, n int, cpu float64) record {
		return record{Run: run, Media: "m", Server: server,
			stepResult: stepResult{Sessions: n, Frames: 1, CPUPerPkt: cpu}}
	}
	recs := []record{
		step(1, "ours", 20, 2.0), step(1, "before", 20, 2.0),
		step(2, "ours", 20, 3.3), step(2, "before", 20, 3.0), // a slow run for both
		step(3, "ours", 20, 1.9), step(3, "before", 20, 2.0),
	}
	r := ratioPerRun(recs, "m", "ours", "before", cpuAt(20))
	med, ok := median(r)
	if !ok || len(r) != 3 || math.Abs(med-1.0) > 1e-9 {
		t.Fatalf("ratios %v, median %v", r, med)
	}
	// In run order, whatever median did: the report prints them per run.
	if want := []float64{1.0, 1.1, 0.95}; !slices.EqualFunc(r, want, func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }) {
		t.Errorf("ratios %v, want %v in run order", r, want)
	}
	if got := meanFmt(r, "%.3f"); got != "1.017" {
		t.Errorf("meanFmt: %q", got)
	}
	if got := meanFmt(nil, "%.3f"); got != "-" {
		t.Errorf("meanFmt(nil): %q", got)
	}
	if got := spreadFmt(r, "%.3f"); got != "1.000 [0.950–1.100]" {
		t.Errorf("spreadFmt: %q", got)
	}
	if got := spreadFmt(nil, "%.3f"); got != "-" {
		t.Errorf("spreadFmt(nil): %q", got)
	}
}

// TestPairFirst: who goes first turns about from step to step and from
// run to run, so over an even number of runs each build goes first
// equally often at every load.
func TestPairFirst(t *testing.T) {
	for run, want := range [][]int{{0, 1, 0, 1}, {1, 0, 1, 0}, {0, 1, 0, 1}} {
		for k, w := range want {
			if got := pairFirst(k, run+1); got != w {
				t.Errorf("pairFirst(step %d, run %d) = %d, want %d", k, run+1, got, w)
			}
		}
	}
	o := &options{beforeDir: "x", servers: []string{"gst", "before", "raw-gso", "ours"}, oursName: "ours", beforeName: "before"}
	if got := beforePair(o); !slices.Equal(got, []string{"before", "ours"}) {
		t.Errorf("beforePair: %v", got)
	}
	o.beforeDir = ""
	if got := beforePair(o); got != nil {
		t.Errorf("beforePair without -before: %v", got)
	}
}
