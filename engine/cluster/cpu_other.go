//go:build !unix

package cluster

// cpuMeter reports no CPU share where getrusage(2) is missing: placement
// then goes by sessions and viewers alone.
type cpuMeter struct{}

func (*cpuMeter) permille() uint32 { return 0 }
