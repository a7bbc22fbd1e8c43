package client

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/actorstream/actorstream/pipeline/codec/mediafile"
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
	ix, err := mediafile.Index(name, f, st.Size())
	if errors.As(err, new(*mediafile.UnsupportedError)) {
		return nil, fmt.Errorf("cannot publish %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	m.index = ix.Index
	m.fps = rateOf(f.Name(), ix, fps)
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

// rateOf is the server's rule (mediafile.Rate), with fps as the rate of
// files that state none; a rate file that cannot be read counts as none.
func rateOf(path string, ix *mediafile.Indexed, fps float64) float64 {
	sidecar, _ := os.ReadFile(path + mediafile.SidecarSuffix)
	rate, _, _ := mediafile.Rate(sidecar, ix.Index.Format, ix.Stated, fps)
	return rate
}

// warm re-encodes ahead of sending, on every core, the frames RFC 2435
// cannot carry as they are (the lab's 4:4:4 movie), so that the paced
// stream is not held up by them.
func (m *publishMedia) warm(ctx context.Context) {
	_ = m.conform.Warm(ctx, m.index.Len(), runtime.NumCPU(), func(i int) ([]byte, error) {
		return m.index.ReadFrame(m.file, i, nil)
	})
}
