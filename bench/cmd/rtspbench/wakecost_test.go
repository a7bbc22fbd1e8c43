package main

import (
	"testing"
	"time"
)

// TestWakeCost: the sleeper wakes about rate times a second and reports
// the CPU it used, which is more than nothing and less than the time it
// ran (it slept most of it).
func TestWakeCost(t *testing.T) {
	const d = 300 * time.Millisecond
	wakes, cpu, err := wakeCost(100, d)
	if err != nil {
		t.Fatal(err)
	}
	if wakes < 25 || wakes > 31 {
		t.Errorf("%d wake-ups in %v at 100/s, want about 30", wakes, d)
	}
	if cpu < 0 || cpu >= d {
		t.Errorf("CPU %v for %v of sleeping", cpu, d)
	}
}
