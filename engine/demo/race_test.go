//go:build race

package demo

// raceEnabled relaxes timing assertions: the race detector slows the
// encoder several times over.
const raceEnabled = true
