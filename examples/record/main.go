// Command record saves an RTSP MJPEG stream to a file that the server (and
// ffmpeg, for raw) can play again. It shows a client whose Output is a
// tools.FileWriter, behind a small stage that stops after -frames.
//
//	record -url rtsp://127.0.0.1:8554/demo.mjpeg -out demo-copy.mjpeg -frames 250
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
	"github.com/actorstream/actorstream/pipeline/stages/tools"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "record:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("record", flag.ContinueOnError)
	url := fs.String("url", "", "stream to record, rtsp://host[:port]/path")
	out := fs.String("out", "", "file to write")
	frames := fs.Int("frames", 0, "stop after this many frames (0: at the end of the stream)")
	format := fs.String("format", "raw", "raw (concatenated JPEGs) or lab (5-digit length before each)")
	transport := fs.String("transport", "tcp", "udp, tcp or auto (UDP, then TCP); TCP loses no frames")
	if err := fs.Parse(args); err != nil {
		return err
	}
	formats := map[string]mjpeg.Format{"raw": mjpeg.FormatRaw, "lab": mjpeg.FormatLab}
	if _, ok := formats[*format]; !ok || *out == "" || *frames < 0 {
		return errors.New("want -out FILE, -frames >= 0 and -format raw or lab")
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	defer f.Close()
	w := &tools.FileWriter{W: f, Format: formats[*format]}
	enough := make(chan struct{})
	limit := pipeline.StageFunc[*pipeline.Frame, *pipeline.Frame](func(ctx context.Context, in <-chan *pipeline.Frame, next chan<- *pipeline.Frame) error {
		for n := 0; ; n++ {
			fr, ok := pipeline.Recv(ctx, in)
			switch {
			case !ok:
				return ctx.Err()
			case *frames > 0 && n >= *frames: // the rest, until the teardown
				fr.Release()
			case !pipeline.Send(ctx, next, fr):
				fr.Release()
				return ctx.Err()
			case n+1 == *frames:
				close(enough)
			}
		}
	})
	client, err := client.Dial(ctx, client.Config{URL: *url, Transport: *transport,
		Output: func(p *pipeline.Pipeline, frames <-chan *pipeline.Frame) {
			p.OnEvent(func(e pipeline.Event) { // on the writer's goroutine: keep it quick
				if e.Kind == pipeline.Progress && w.Frames()%25 == 0 {
					fmt.Fprintf(stdout, "recorded %d frames, %d bytes\n", w.Frames(), w.Bytes())
				}
			})
			pipeline.To(p, "file", w, pipeline.Then(p, "limit", limit, frames))
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
	client.Close() // stops the output pipeline once w has written what it got
	fmt.Fprintf(stdout, "recorded %d frames, %d bytes to %s\n", w.Frames(), w.Bytes(), *out)
	return errors.Join(client.Err(), f.Close())
}
