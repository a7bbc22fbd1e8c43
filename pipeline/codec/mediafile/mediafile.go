// Package mediafile indexes any video file the engine plays — raw or lab
// MJPEG, or Motion-JPEG in AVI, Matroska or MP4 — and decides its frame
// rate: one rule for the server that plays a file and the client that
// publishes one, so a file goes out at the same rate either way.
//
// Like the codec packages beside it, it is a pure library: no goroutines,
// no logging; damage and unusable rate files are returned for the caller
// to log.
package mediafile

import (
	"errors"
	"io"

	"github.com/actorstream/actorstream/pipeline/codec/container"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
)

// Indexed is a file's frame table and what it says of its rate.
type Indexed struct {
	Index *mjpeg.Index
	Kind  container.Kind // the container; "" for raw or lab MJPEG
	// Stated is the rate the file states (containers); zero when it
	// states none (raw and lab MJPEG).
	Stated container.Rate
	// Damage says where the file is damaged (the last frame of an
	// interrupted recording cut off); Index holds its intact frames.
	Damage error
}

// UnsupportedError says why a file cannot be played, in words for the
// person who asked for it.
type UnsupportedError struct {
	Name string // the file's name as its user knows it
	Why  string
}

func (e *UnsupportedError) Error() string { return e.Name + ": " + e.Why }

// Index finds the frames of r (size bytes), a file named name: a
// container's Motion-JPEG track, or an MJPEG stream (raw or lab). A file
// damaged somewhere still yields its intact frames, with Damage set. A
// file with no frame to play is an *UnsupportedError; a read error is
// returned as it is.
func Index(name string, r io.ReaderAt, size int64) (*Indexed, error) {
	var head [12]byte
	n, _ := r.ReadAt(head[:], 0)
	if kind := container.Detect(head[:n]); kind != "" {
		v, err := container.Open(r, size)
		var ce *container.CodecError
		switch {
		case errors.As(err, &ce) && ce.Codec != "":
			return nil, &UnsupportedError{Name: name,
				Why: ce.Codec + " video (in " + string(ce.Kind) + "); the server plays Motion-JPEG: convert with: " + container.ConvertCommand(name)}
		case err != nil:
			return nil, &UnsupportedError{Name: name, Why: err.Error()}
		}
		ix := &mjpeg.Index{Format: mjpeg.FormatRaw, Offsets: v.Offsets, JPEGOffsets: v.Offsets, Sizes: v.Sizes}
		return &Indexed{Index: ix, Kind: kind, Stated: v.Rate, Damage: v.Damage}, nil
	}
	ix, err := mjpeg.BuildIndex(io.NewSectionReader(r, 0, size))
	var damage *mjpeg.FrameError
	switch {
	case errors.As(err, &damage) && ix.Len() > 0:
		return &Indexed{Index: ix, Damage: err}, nil
	case errors.Is(err, mjpeg.ErrNoFrames) || errors.Is(err, mjpeg.ErrUnknownFormat) || (err == nil && ix.Len() == 0):
		return nil, &UnsupportedError{Name: name,
			Why: "not a video the server knows (MJPEG, raw or lab, or Motion-JPEG in AVI, Matroska or MP4)"}
	case errors.As(err, &damage):
		return nil, &UnsupportedError{Name: name, Why: "no complete MJPEG frame: " + err.Error()}
	case err != nil:
		return nil, err
	}
	return &Indexed{Index: ix}, nil
}

// DamageOffset is the byte offset of the file's damage, or -1 when the
// damage does not name one.
func (ix *Indexed) DamageOffset() int64 {
	if fe, ok := errors.AsType[*mjpeg.FrameError](ix.Damage); ok {
		return fe.Offset
	}
	return -1
}
