//go:build race

package main

// raceEnabled: when the tests run under the race detector, the client
// binary they drive is built with it too, so that a data race in the client
// shows up as "WARNING: DATA RACE" and exit status 66.
const raceEnabled = true
