// Command record saves an RTSP MJPEG stream to a file that the server (and
// ffmpeg, for raw) can play again. It shows a client whose Output is a
// tools.FileWriter behind a filter that lets -frames through, and a
// pipeline event listener that prints progress and says when to stop.
//
//	record -url rtsp://127.0.0.1:8554/live -out live.mjpeg -frames 250
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/examples/internal/example"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
	"github.com/actorstream/actorstream/pipeline/stages/tools"
)

func main() { example.Main("record", run) }

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := example.Flags("record")
	url := fs.String("url", "", "stream to record, rtsp://host[:port]/path")
	out := fs.String("out", "", "file to write")
	frames := fs.Int("frames", 0, "stop after this many frames (0: at the end of the stream)")
	format := fs.String("format", "raw", "raw (concatenated JPEGs) or lab (5-digit length before each)")
	transport := fs.String("transport", "tcp", "udp, tcp or auto (UDP, then TCP); TCP loses no frames")
	formats := map[string]mjpeg.Format{"raw": mjpeg.FormatRaw, "lab": mjpeg.FormatLab}
	if err := fs.Parse(args); err != nil {
		return err
	} else if _, ok := formats[*format]; !ok || *out == "" || *frames < 0 {
		return errors.New("want -out FILE, -frames >= 0 and -format raw or lab")
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	w := &tools.FileWriter{W: f, Format: formats[*format]}
	passed := 0 // the first -frames get through; the rest, until the teardown, do not
	limit := example.Filter(func(*pipeline.Frame) bool { passed++; return *frames == 0 || passed <= *frames })
	ctx, enough := context.WithCancel(ctx) // ends the session once -frames are written
	defer enough()
	err = example.DialAndPlay(ctx, client.Config{URL: *url, Transport: *transport,
		Output: func(p *pipeline.Pipeline, in <-chan *pipeline.Frame) {
			p.OnEvent(func(e pipeline.Event) { // on the writer's goroutine: keep it quick
				if st := w.Stats(); e.Kind == pipeline.Progress && st.Frames == uint64(*frames) {
					enough()
				} else if e.Kind == pipeline.Progress && st.Frames%25 == 0 {
					fmt.Fprintf(stdout, "recorded %s, %d bytes\n", example.Count(st.Frames, "frame"), st.Bytes)
				}
			})
			pipeline.To(p, "file", w, pipeline.Then(p, "limit", limit, in))
		}})
	fmt.Fprintf(stdout, "recorded %s, %d bytes to %s\n", example.Count(w.Stats().Frames, "frame"), w.Stats().Bytes, *out)
	return errors.Join(err, f.Close())
}
