// Command snapshot saves a picture of an RTSP MJPEG stream every -every of
// stream time, as PNG files in -dir, stopping after -count pictures. It
// shows a client whose Output picks frames by their PTS and ends in a
// tools.ImageWriter, and a pipeline event listener.
//
//	snapshot -url rtsp://127.0.0.1:8554/live -every 2s -dir shots -count 10
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/examples/internal/example"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/stages/tools"
)

func main() { example.Main("snapshot", run) }

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := example.Flags("snapshot")
	url := fs.String("url", "", "stream, rtsp://host[:port]/path")
	every := fs.Duration("every", 2*time.Second, "stream time between pictures")
	dir := fs.String("dir", ".", "directory for the PNG files (frame-NNNNNN.png)")
	count := fs.Int("count", 0, "stop after this many pictures (0: at the end of the stream)")
	if err := fs.Parse(args); err != nil {
		return err
	} else if *every <= 0 || *count < 0 {
		return errors.New("want -every > 0 and -count >= 0")
	}
	// Pick the first frame, then the first one -every later, by PTS: no
	// need to know the frame rate. Stop picking after -count.
	due, picked := time.Duration(0), 0
	pick := example.Filter(func(f *pipeline.Frame) bool {
		if f.PTS < due || (*count > 0 && picked == *count) {
			return false
		}
		due, picked = f.PTS+*every, picked+1
		return true
	})
	w := &tools.ImageWriter{Dir: *dir}
	ctx, enough := context.WithCancel(ctx) // ends the session once -count pictures are saved
	defer enough()
	return example.DialAndPlay(ctx, client.Config{URL: *url,
		Output: func(p *pipeline.Pipeline, frames <-chan *pipeline.Frame) {
			p.OnEvent(func(e pipeline.Event) { // on the writer's goroutine: keep it quick
				if e.Stage == "images" && e.Kind == pipeline.Progress {
					fmt.Fprintf(stdout, "saved %s in %s\n", example.Count(w.Stats().Written, "picture"), *dir)
					if w.Stats().Written == uint64(*count) {
						enough()
					}
				}
			})
			pipeline.To(p, "images", w, pipeline.Then(p, "pick", pick, frames))
		}})
}
