package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// wakecost measures what it costs this machine to put a goroutine to
// sleep and wake it again, with nothing else to do: CPU time per wake-up
// at a given rate. A pacing server pays it every time it waits for the
// next frame. On bare metal it is a few microseconds; in a virtual
// machine, where every idle period and timer interrupt exits to the
// hypervisor, it can be tens, and then wake-ups, not packets, are most of
// a lightly loaded server's CPU.
func wakeCostMain(args []string) error {
	fs := flag.NewFlagSet("wakecost", flag.ExitOnError)
	rates := fs.String("rates", "30,300,1000,3000", "wake-ups per second to try")
	each := fs.Duration("for", 3*time.Second, "how long to sleep and wake at each rate")
	_ = fs.Parse(args)
	for _, r := range strings.Split(*rates, ",") {
		rate, err := strconv.Atoi(strings.TrimSpace(r))
		if err != nil || rate <= 0 {
			return fmt.Errorf("bad rate %q", r)
		}
		wakes, cpu, err := wakeCost(rate, *each)
		if err != nil {
			return err
		}
		fmt.Printf("%6d wake-ups/s: %6.1f ms CPU per second, %5.1f µs per wake-up\n",
			rate, cpu.Seconds()*1e3/each.Seconds(), cpu.Seconds()*1e6/float64(wakes))
	}
	return nil
}

// wakeCost sleeps until each of rate deadlines a second for d, and returns
// how many wake-ups that took and the process CPU (user+system) spent.
func wakeCost(rate int, d time.Duration) (wakes int, cpu time.Duration, err error) {
	before, err := processCPU()
	if err != nil {
		return 0, 0, err
	}
	period := time.Second / time.Duration(rate)
	start := time.Now()
	for i := 1; time.Since(start) < d; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(i) * period)))
		wakes++
	}
	after, err := processCPU()
	return wakes, after - before, err
}

// processCPU is this process's CPU from getrusage, to the microsecond:
// cpuTime's /proc figures come in 10 ms ticks, too coarse for the few
// tens of milliseconds a wakecost rate uses.
func processCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
