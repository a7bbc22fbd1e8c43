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
	"time"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/pipeline/stages/receive"
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

// Stats is a player's session as people and scripts see it: what displays
// show next to the picture and what the client prints with -stats. It is
// the client's own statistics type (client.Client.Stats returns it),
// composed of what the player actor and the receiving stages measure:
// State is the actor's (displays show it upper-case), the frame counts and
// rates are the frames Meter's, Receiver is the RTP reception (RFC 3550)
// the JitterCheck feeds.
//
// In JSON, Position and Duration are seconds (floats) named position_s and
// duration_s, Meter's fields are inline, and every other field is its
// snake_case name.
type Stats struct {
	URL       string       `json:"url,omitempty"`
	Dialect   string       `json:"dialect,omitempty"`   // rfc or lab (the configured one before SETUP)
	Transport string       `json:"transport,omitempty"` // udp or tcp (the configured one before SETUP)
	State     actors.State `json:"state"`               // empty when unknown
	// The frames received whole: Frames, Bytes, FPS, KbitPerSec, AvgFPS
	// and, as Position, the PTS of the last one.
	receive.MeterStats
	FramesDropped      uint64                   `json:"frames_dropped"` // incomplete: a fragment was lost
	TimeToFirstFrameMs float64                  `json:"time_to_first_frame_ms"`
	Receiver           receive.ReceiverSnapshot `json:"receiver"`
	Duration           time.Duration            `json:"-"` // length of the media; 0 = unknown or live
	// Loop is true when the media repeats (the server loops it): Duration
	// is then one pass, and Position is within it.
	Loop bool `json:"loop,omitempty"`
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

// Playing reports whether State is actors.Playing.
func (s Stats) Playing() bool { return s.State == actors.Playing }

// NeedsSetup reports whether State is actors.Init: there is no session,
// so Play alone would fail. An empty State says nothing either way.
func (s Stats) NeedsSetup() bool { return s.State == actors.Init }
