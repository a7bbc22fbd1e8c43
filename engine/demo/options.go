package demo

import "fmt"

// Options describes the clip. Zero fields take the defaults below.
type Options struct {
	Width, Height int // pixels; default 640x480
	FPS           int // frames per second; default 25
	Seconds       int // clip length; default 10
	Quality       int // JPEG quality 1..100; default 75
}

// Defaults and limits. Dimensions must be multiples of 8 no larger than
// 2040 because RFC 2435 transmits width and height in 8-pixel units in a
// single byte; anything else could not be streamed faithfully.
const (
	DefaultWidth   = 640
	DefaultHeight  = 480
	DefaultFPS     = 25
	DefaultSeconds = 10
	DefaultQuality = 75

	maxDimension = 2040
	minDimension = 16
	maxFPS       = 120
	maxSeconds   = 24 * 60 * 60
)

// withDefaults fills zero fields and validates the result.
func (o Options) withDefaults() (Options, error) {
	if o.Width == 0 {
		o.Width = DefaultWidth
	}
	if o.Height == 0 {
		o.Height = DefaultHeight
	}
	if o.FPS == 0 {
		o.FPS = DefaultFPS
	}
	if o.Seconds == 0 {
		o.Seconds = DefaultSeconds
	}
	if o.Quality == 0 {
		o.Quality = DefaultQuality
	}
	for _, d := range []struct {
		name string
		v    int
	}{{"width", o.Width}, {"height", o.Height}} {
		if d.v < minDimension || d.v > maxDimension || d.v%8 != 0 {
			return o, fmt.Errorf("demo: %s %d must be a multiple of 8 in [%d, %d]", d.name, d.v, minDimension, maxDimension)
		}
	}
	if o.FPS < 1 || o.FPS > maxFPS {
		return o, fmt.Errorf("demo: fps %d out of range [1, %d]", o.FPS, maxFPS)
	}
	if o.Seconds < 1 || o.Seconds > maxSeconds {
		return o, fmt.Errorf("demo: seconds %d out of range [1, %d]", o.Seconds, maxSeconds)
	}
	if o.Quality < 1 || o.Quality > 100 {
		return o, fmt.Errorf("demo: quality %d out of range [1, 100]", o.Quality)
	}
	return o, nil
}

// Frames is the number of frames the clip will contain.
func (o Options) Frames() int {
	o, err := o.withDefaults()
	if err != nil {
		return 0
	}
	return o.Seconds * o.FPS
}
