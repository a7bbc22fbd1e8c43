package server

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/actorstream/actorstream/pipeline/codec/container"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
)

// UnsupportedError says why a file cannot be played, in words for the
// person who asked for it: the server answers 415 with it as the reason
// phrase and a text/plain body, and logs it.
type UnsupportedError struct {
	Name string // the media's name under the root
	Why  string
}

func (e *UnsupportedError) Error() string { return e.Name + ": " + e.Why }

// index finds the frames of the file f (size bytes): a container's video
// track with its rate, or an MJPEG stream (raw or lab, which state no
// rate). A stream damaged somewhere (the last frame of an interrupted
// recording cut off) still plays its intact frames, with a warning that
// says where the damage is; a container cut off likewise.
func (c *catalog) index(name string, f *os.File, size int64) (*mjpeg.Index, container.Kind, container.Rate, error) {
	var head [12]byte
	n, _ := f.ReadAt(head[:], 0)
	if kind := container.Detect(head[:n]); kind != "" {
		v, err := container.Open(f, size)
		var ce *container.CodecError
		switch {
		case errors.As(err, &ce) && ce.Codec != "":
			return nil, "", container.Rate{}, &UnsupportedError{Name: name,
				Why: ce.Codec + " video (in " + string(ce.Kind) + "); the server plays Motion-JPEG: convert with: " + container.ConvertCommand(name)}
		case err != nil:
			return nil, "", container.Rate{}, &UnsupportedError{Name: name, Why: err.Error()}
		}
		if v.Damage != nil {
			c.log.Warn("media damaged: playing the frames before the damage", "media", name, "frames", v.Len(), "damage", v.Damage)
		}
		ix := &mjpeg.Index{Format: mjpeg.FormatRaw, Offsets: v.Offsets, JPEGOffsets: v.Offsets, Sizes: v.Sizes}
		return ix, kind, v.Rate, nil
	}
	ix, err := mjpeg.BuildIndex(io.NewSectionReader(f, 0, size))
	var damage *mjpeg.FrameError
	switch {
	case errors.As(err, &damage) && ix.Len() > 0:
		c.log.Warn("media damaged: playing its complete frames", "media", name, "frames", ix.Len(),
			"offset", damage.Offset, "error", err)
	case errors.Is(err, mjpeg.ErrNoFrames) || errors.Is(err, mjpeg.ErrUnknownFormat) || (err == nil && ix.Len() == 0):
		return nil, "", container.Rate{}, &UnsupportedError{Name: name,
			Why: "not a video the server knows (MJPEG, raw or lab, or Motion-JPEG in AVI, Matroska or MP4)"}
	case errors.As(err, &damage):
		return nil, "", container.Rate{}, &UnsupportedError{Name: name, Why: "no complete MJPEG frame: " + err.Error()}
	case err != nil:
		return nil, "", container.Rate{}, fmt.Errorf("%s: %w", name, err)
	}
	return ix, "", container.Rate{}, nil
}

// sidecarSuffix names a file's rate file: clip.mjpeg.fps holds "30" or
// "30000/1001".
const sidecarSuffix = ".fps"

// rate decides a file's frame rate: its sidecar (name + ".fps"), which
// says what the person who put it there wants; else the rate the file
// states (containers); else -fps; else 20 for lab files (the original lab
// server's 50 ms a frame) and 25 for the rest. It returns the rate and
// where it came from.
func (c *catalog) rate(name string, format mjpeg.Format, stated container.Rate) (float64, string) {
	if b, err := c.root.ReadFile(name + sidecarSuffix); err == nil && len(b) < 64 {
		r, err := container.ParseRate(string(b))
		if err == nil {
			return r.FPS(), "sidecar"
		}
		c.log.Warn("ignoring the frame rate file", "file", name+sidecarSuffix, "error", err)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		c.log.Warn("ignoring the frame rate file", "file", name+sidecarSuffix, "error", err)
	}
	switch {
	case stated.FPS() > 0:
		return stated.FPS(), "file"
	case c.fps > 0:
		return c.fps, "-fps"
	case format == mjpeg.FormatLab:
		return 20, "default"
	}
	return 25, "default"
}
