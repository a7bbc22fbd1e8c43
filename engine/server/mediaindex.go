package server

import (
	"errors"
	"io/fs"
	"os"

	"github.com/actorstream/actorstream/pipeline/codec/container"
	"github.com/actorstream/actorstream/pipeline/codec/mediafile"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
)

// UnsupportedError says why a file cannot be played, in words for the
// person who asked for it: the server answers 415 with it as the reason
// phrase and a text/plain body, and logs it.
type UnsupportedError = mediafile.UnsupportedError

// index finds the frames of the file f (size bytes) through
// mediafile.Index. A file damaged somewhere (the last frame of an
// interrupted recording cut off) still plays its intact frames, with a
// warning that says where the damage is.
func (c *catalog) index(name string, f *os.File, size int64) (*mjpeg.Index, container.Kind, container.Rate, error) {
	ix, err := mediafile.Index(name, f, size)
	if err != nil {
		return nil, "", container.Rate{}, err
	}
	if ix.Damage != nil {
		c.log.Warn("media damaged: playing its complete frames", "media", name, "frames", ix.Index.Len(),
			"offset", ix.DamageOffset(), "error", ix.Damage)
	}
	return ix.Index, ix.Kind, ix.Stated, nil
}

// rate decides a file's frame rate by mediafile.Rate, with -fps as the
// rate of files that state none, and returns it with where it came from.
func (c *catalog) rate(name string, format mjpeg.Format, stated container.Rate) (float64, string) {
	sidecar := name + mediafile.SidecarSuffix
	b, err := c.root.ReadFile(sidecar)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		c.log.Warn("ignoring the frame rate file", "file", sidecar, "error", err)
	}
	fps, from, ignored := mediafile.Rate(b, format, stated, c.fps)
	if ignored != nil {
		c.log.Warn("ignoring the frame rate file", "file", sidecar, "error", ignored)
	}
	if from == mediafile.FromFallback {
		from = "-fps"
	}
	return fps, from
}
