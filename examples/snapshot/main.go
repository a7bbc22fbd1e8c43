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
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/stages/tools"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "snapshot:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("snapshot", flag.ContinueOnError)
	url := fs.String("url", "", "stream, rtsp://host[:port]/path")
	every := fs.Duration("every", 2*time.Second, "stream time between pictures")
	dir := fs.String("dir", ".", "directory for the PNG files (frame-NNNNNN.png)")
	count := fs.Int("count", 0, "stop after this many pictures (0: at the end of the stream)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *every <= 0 || *count < 0 {
		return errors.New("want -every > 0 and -count >= 0")
	}
	// Pick the first frame, then the first one -every later, by PTS: no
	// need to know the frame rate.
	pick := pipeline.StageFunc[*pipeline.Frame, *pipeline.Frame](func(ctx context.Context, in <-chan *pipeline.Frame, next chan<- *pipeline.Frame) error {
		var due time.Duration
		for n := 0; ; {
			f, ok := pipeline.Recv(ctx, in)
			switch {
			case !ok:
				return ctx.Err()
			case f.PTS < due || (*count > 0 && n == *count):
				f.Release()
			default:
				n, due = n+1, f.PTS+*every // before f moves on
				if !pipeline.Send(ctx, next, f) {
					f.Release()
					return ctx.Err()
				}
			}
		}
	})
	w := &tools.ImageWriter{Dir: *dir}
	enough := make(chan struct{})
	client, err := client.Dial(ctx, client.Config{URL: *url,
		Output: func(p *pipeline.Pipeline, frames <-chan *pipeline.Frame) {
			p.OnEvent(func(e pipeline.Event) { // on the writer's goroutine: keep it quick
				if e.Stage == "images" && e.Kind == pipeline.Progress {
					fmt.Fprintf(stdout, "saved %d pictures in %s\n", w.Written(), *dir)
					if w.Written() == *count {
						close(enough)
					}
				}
			})
			pipeline.To(p, "images", w, pipeline.Then(p, "pick", pick, frames))
		}})
	if err != nil {
		return err
	}
	defer client.Close()
	if err := client.Setup(); err != nil {
		return err
	}
	if err := client.Play(); err != nil {
		return err
	}
	select {
	case <-enough:
	case <-client.Done(): // the stream ended
	case <-ctx.Done():
	}
	client.Close()
	return client.Err()
}
