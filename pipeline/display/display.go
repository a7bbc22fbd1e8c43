// Package display defines what every video display of the player shares:
// the commands a user can give ([Controls]) and the statistics shown next
// to the picture ([Stats]).
//
// The displays themselves are pipeline sinks in the sub-packages:
//
//   - display/web: a page served on 127.0.0.1 with the lab client's
//     Setup / Play / Pause / Teardown buttons (the default display);
//   - display/term: true-colour half blocks in a terminal, usable over SSH;
//   - display/none: counts frames and shows nothing (benchmarks, headless runs).
package display

import (
	"encoding/json"
	"math"
	"strings"
	"time"
)

// Controls sends user commands to the player. Each call returns when the
// server answered; a non-nil error's text is shown to the user as is, for
// example "404 Not Found: no media 'x.mjpeg' on server".
type Controls interface {
	Setup() error
	Play() error
	Pause() error
	Teardown() error
	// Seek moves playback to the position to from the start of the media.
	Seek(to time.Duration) error
}

// The states conventionally reported in [Stats.State]: those of an RTSP
// client (RFC 2326 appendix A.1). Displays compare them case-insensitively;
// other text is shown as is.
const (
	StateInit    = "INIT"    // no session: Setup needed before Play
	StateReady   = "READY"   // set up, not playing (or paused)
	StatePlaying = "PLAYING" // frames are flowing
)

// Stats is what displays show; the player fills it.
//
// In JSON, Position and Duration are seconds (floats) named position_s and
// duration_s; every other field is its snake_case name.
type Stats struct {
	State              string        `json:"state"`
	FPS                float64       `json:"fps"`          // frames shown per second
	KbitPerSec         float64       `json:"kbit_per_sec"` // received media bit rate
	PacketsReceived    uint64        `json:"packets_received"`
	PacketsLost        uint64        `json:"packets_lost"`
	LossPercent        float64       `json:"loss_percent"`
	JitterMs           float64       `json:"jitter_ms"` // RFC 3550 interarrival jitter
	FramesShown        uint64        `json:"frames_shown"`
	FramesDropped      uint64        `json:"frames_dropped"`
	Duplicates         uint64        `json:"duplicates"`
	Late               uint64        `json:"late"`
	Reordered          uint64        `json:"reordered"`
	TimeToFirstFrameMs float64       `json:"time_to_first_frame_ms"`
	Position           time.Duration `json:"-"` // playback position in the media
	Duration           time.Duration `json:"-"` // length of the media; 0 = unknown or live
}

// StatsFunc returns the current statistics. Displays call it a few times a
// second from their own goroutines, so it must be safe for concurrent use.
type StatsFunc func() Stats

// statsFields has Stats' fields without its methods, so that the JSON
// methods below do not call themselves.
type statsFields Stats

type statsJSON struct {
	*statsFields
	PositionS float64 `json:"position_s"`
	DurationS float64 `json:"duration_s"`
}

// MarshalJSON encodes s with Position and Duration in seconds.
func (s Stats) MarshalJSON() ([]byte, error) {
	f := statsFields(s)
	return json.Marshal(statsJSON{
		statsFields: &f,
		PositionS:   s.Position.Seconds(),
		DurationS:   s.Duration.Seconds(),
	})
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (s *Stats) UnmarshalJSON(b []byte) error {
	v := statsJSON{statsFields: (*statsFields)(s)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	s.Position = Seconds(v.PositionS)
	s.Duration = Seconds(v.DurationS)
	return nil
}

// Seconds converts a number of seconds to a Duration, rounding to the
// nearest microsecond (float seconds carry no more precision than that).
// NaN and infinities give 0.
func Seconds(sec float64) time.Duration {
	if math.IsNaN(sec) || math.IsInf(sec, 0) {
		return 0
	}
	return time.Duration(math.Round(sec*1e6)) * time.Microsecond
}

// Playing reports whether State is StatePlaying.
func (s Stats) Playing() bool { return strings.EqualFold(s.State, StatePlaying) }

// NeedsSetup reports whether State is StateInit: there is no session yet,
// so Play alone would fail. An empty State says nothing either way.
func (s Stats) NeedsSetup() bool { return strings.EqualFold(s.State, StateInit) }
