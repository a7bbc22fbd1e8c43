//go:build race

package hostile

// raceEnabled scales the heaviest tests down under the race detector,
// which makes the server about six times slower.
const raceEnabled = true
