//go:build race

package cluster

// raceEnabled: built with -race (see skipUnderRace).
const raceEnabled = true
