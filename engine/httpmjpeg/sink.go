package httpmjpeg

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// Boundary separates the parts of every stream: long and unlike anything
// in a JPEG's text, since browsers find the end of a part by looking for
// it rather than by Content-Length.
const Boundary = "actorstream-mjpeg-frame-7f3a"

// ContentType is the stream's media type.
const ContentType = "multipart/x-mixed-replace; boundary=" + Boundary

// DefaultWriteTimeout bounds the writing of one frame when
// Sink.WriteTimeout is 0.
const DefaultWriteTimeout = 10 * time.Second

// Sink is the pipeline sink of one HTTP MJPEG viewer: each frame becomes
// one part of a multipart/x-mixed-replace response,
//
//	--BOUNDARY\r\nContent-Type: image/jpeg\r\nContent-Length: N\r\n\r\n<jpeg>\r\n
//
// which any <img> tag shows as video, and ffmpeg reads (-f mpjpeg or
// -f mjpeg). Each part's boundary line goes out with the part before it
// (the first with the response's start), so that a browser, which ends a
// part where it finds the next boundary, shows a frame when it arrives
// rather than when the next one does.
//
// A viewer that stops reading must not hold its handler (and, for a live
// stream, the frames it would queue) forever: each frame must be written
// within WriteTimeout, or Run fails and the connection is closed. Run
// returns nil when in closes (the end of a file that does not loop), and
// an error when the viewer goes.
type Sink struct {
	W            http.ResponseWriter
	WriteTimeout time.Duration // per frame; 0 means DefaultWriteTimeout

	head   []byte
	frames atomic.Uint64
	bytes  atomic.Uint64
}

// SinkStats counts what a Sink wrote.
type SinkStats struct {
	Frames uint64
	Bytes  uint64 // of JPEG data
}

// Stats is what the sink wrote so far; safe while it runs.
func (s *Sink) Stats() SinkStats {
	return SinkStats{Frames: s.frames.Load(), Bytes: s.bytes.Load()}
}

// Run writes the frames of in until in closes, the viewer goes, or ctx
// ends.
func (s *Sink) Run(ctx context.Context, in <-chan *pipeline.Frame) error {
	rc := http.NewResponseController(s.W)
	timeout := s.WriteTimeout
	if timeout <= 0 {
		timeout = DefaultWriteTimeout
	}
	if err := s.write(rc, timeout, nil); err != nil {
		return err
	}
	for {
		f, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		err := s.write(rc, timeout, f.Data)
		f.Release()
		if err != nil {
			return err
		}
	}
}

// write sends the part of one JPEG and the boundary after it (only the
// boundary for a nil jpeg), within timeout.
func (s *Sink) write(rc *http.ResponseController, timeout time.Duration, jpeg []byte) error {
	if err := rc.SetWriteDeadline(time.Now().Add(timeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return fmt.Errorf("viewer: %w", err)
	}
	s.head = s.head[:0]
	if jpeg != nil {
		s.head = append(s.head, "Content-Type: image/jpeg\r\nContent-Length: "...)
		s.head = strconv.AppendInt(s.head, int64(len(jpeg)), 10)
		s.head = append(s.head, "\r\n\r\n"...)
		if _, err := s.W.Write(s.head); err != nil {
			return fmt.Errorf("viewer: %w", err)
		}
		if _, err := s.W.Write(jpeg); err != nil {
			return fmt.Errorf("viewer: %w", err)
		}
		s.head = append(s.head[:0], "\r\n"...)
	}
	s.head = append(s.head, "--"+Boundary+"\r\n"...)
	if _, err := s.W.Write(s.head); err != nil {
		return fmt.Errorf("viewer: %w", err)
	}
	if err := rc.Flush(); err != nil {
		return fmt.Errorf("viewer: %w", err)
	}
	if jpeg != nil {
		s.frames.Add(1)
		s.bytes.Add(uint64(len(jpeg)))
	}
	return nil
}
