//go:build race

package interop

// raceEnabled: the race detector slows Go's image/jpeg (the server's
// re-encoder) about tenfold.
const raceEnabled = true
