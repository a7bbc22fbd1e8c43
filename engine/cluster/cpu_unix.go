//go:build unix

package cluster

import (
	"runtime"
	"sync"
	"syscall"
	"time"
)

// cpuMeter measures the process's CPU share between two calls, from
// getrusage(2): a system call per report, nothing to parse.
type cpuMeter struct {
	mu   sync.Mutex
	used time.Duration // user + system time at the last call
	at   time.Time
}

// permille is the CPU the process used since the last call, in
// thousandths of all the machine's cores (0 at the first call).
func (c *cpuMeter) permille() uint32 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	used := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	var p uint32
	if !c.at.IsZero() {
		if wall := now.Sub(c.at); wall > 0 {
			p = uint32(min(1000, 1000*float64(used-c.used)/float64(wall)/float64(runtime.NumCPU())))
		}
	}
	c.used, c.at = used, now
	return p
}
