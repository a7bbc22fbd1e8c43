package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/actorstream/actorstream/pipeline/codec/container"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
	"github.com/actorstream/actorstream/pipeline/stages/send"
)

// publishMedia is the file a Publisher sends: indexed as the server
// indexes what it plays (a container's Motion-JPEG track with its rate,
// or a raw or lab MJPEG stream), with the rate decided the same way.
type publishMedia struct {
	name          string
	file          *os.File
	index         *mjpeg.Index
	fps           float64
	width, height int // of the first frame as RFC 2435 carries it
	conform       *send.ConformCache
	reencode      bool // the first frame had to be re-encoded: the others likely too
}

// openMedia opens and indexes path. fps is the rate of files that state
// none (0: 20 for lab files, 25 for others, as the server plays them);
// a sidecar path+".fps" wins over both, as on the server.
func openMedia(path string, fps float64) (*publishMedia, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("media to publish: %w", err)
	}
	m, err := indexMedia(f, filepath.Base(path), fps)
	if err != nil {
		f.Close()
		return nil, err
	}
	return m, nil
}

func indexMedia(f *os.File, name string, fps float64) (*publishMedia, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	m := &publishMedia{name: name, file: f, conform: send.NewConformCache(85)}
	var head [12]byte
	n, _ := f.ReadAt(head[:], 0)
	var stated container.Rate
	if container.Detect(head[:n]) != "" {
		v, err := container.Open(f, st.Size())
		if err != nil {
			return nil, fmt.Errorf("%s: %w (publishing needs Motion-JPEG: %s)", name, err, container.ConvertCommand(name))
		}
		m.index = &mjpeg.Index{Format: mjpeg.FormatRaw, Offsets: v.Offsets, JPEGOffsets: v.Offsets, Sizes: v.Sizes}
		stated = v.Rate
	} else {
		ix, err := mjpeg.BuildIndex(io.NewSectionReader(f, 0, st.Size()))
		var damage *mjpeg.FrameError
		switch {
		case errors.As(err, &damage) && ix != nil && ix.Len() > 0: // a cut-off recording: its complete frames
		case err != nil || ix.Len() == 0:
			return nil, fmt.Errorf("%s: not a video the client can publish (MJPEG, raw or lab, or Motion-JPEG in AVI, Matroska or MP4)", name)
		}
		m.index = ix
	}
	m.fps = rateOf(f.Name(), m.index.Format, stated, fps)
	first, err := m.index.ReadFrame(f, 0, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: first frame: %w", name, err)
	}
	data, reencoded, err := m.conform.Get(context.Background(), 0, first)
	m.reencode = reencoded
	if err != nil {
		return nil, fmt.Errorf("%s: first frame: %w", name, err)
	}
	var j rtpjpeg.JPEG
	if err := rtpjpeg.ParseJPEG(data, &j); err == nil {
		m.width, m.height = j.Width, j.Height
	}
	return m, nil
}

// rateOf is the server's rule (see engine/server's catalog.rate): a
// sidecar file, else the file's own rate, else fps, else 20 for lab files
// and 25 for others.
func rateOf(path string, format mjpeg.Format, stated container.Rate, fps float64) float64 {
	if b, err := os.ReadFile(path + ".fps"); err == nil && len(b) < 64 {
		if r, err := container.ParseRate(string(b)); err == nil {
			return r.FPS()
		}
	}
	switch {
	case stated.FPS() > 0:
		return stated.FPS()
	case fps > 0:
		return fps
	case format == mjpeg.FormatLab:
		return 20
	}
	return 25
}

// warm re-encodes ahead of sending, on every core, the frames RFC 2435
// cannot carry as they are (the lab's 4:4:4 movie), so that the paced
// stream is not held up by them.
func (m *publishMedia) warm(ctx context.Context) {
	_ = m.conform.Warm(ctx, m.index.Len(), runtime.NumCPU(), func(i int) ([]byte, error) {
		return m.index.ReadFrame(m.file, i, nil)
	})
}
