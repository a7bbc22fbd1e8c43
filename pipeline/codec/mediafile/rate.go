package mediafile

import (
	"fmt"

	"github.com/actorstream/actorstream/pipeline/codec/container"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
)

// SidecarSuffix names a file's rate file: clip.mjpeg.fps holds "30" or
// "30000/1001".
const SidecarSuffix = ".fps"

// Where a rate came from, as Rate reports it.
const (
	FromSidecar  = "sidecar"
	FromFile     = "file"
	FromFallback = "fallback" // the caller's (the server's -fps, the client's -publish-fps)
	FromDefault  = "default"
)

// maxSidecar bounds what is read as a rate file: a rate is a few bytes.
const maxSidecar = 64

// Rate decides a file's frame rate: its sidecar (the contents of
// name+SidecarSuffix, nil when there is none), which says what the person
// who put it there wants; else the rate the file states; else fallback
// (when above 0); else 20 for lab files (the original lab server's 50 ms a
// frame) and 25 for the rest. It returns the rate, where it came from, and
// why a sidecar that was there is ignored (for the caller to log).
func Rate(sidecar []byte, format mjpeg.Format, stated container.Rate, fallback float64) (fps float64, from string, ignored error) {
	if sidecar != nil {
		if len(sidecar) > maxSidecar {
			ignored = fmt.Errorf("rate file longer than %d bytes", maxSidecar)
		} else if r, err := container.ParseRate(string(sidecar)); err != nil {
			ignored = err
		} else {
			return r.FPS(), FromSidecar, nil
		}
	}
	switch {
	case stated.FPS() > 0:
		return stated.FPS(), FromFile, ignored
	case fallback > 0:
		return fallback, FromFallback, ignored
	case format == mjpeg.FormatLab:
		return 20, FromDefault, ignored
	}
	return 25, FromDefault, ignored
}
