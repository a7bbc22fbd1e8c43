// Command testpattern serves a live test pattern (colour bars, a bouncing
// box, a frame counter) at rtsp://host/<name> to any number of viewers. It
// shows a live stream: a pipeline whose source is a real-time
// tools.Generator and whose sink is a server.Live, published with
// Server.Publish.
//
//	testpattern -addr :8554 -name live -fps 25
package main

import (
	"context"
	"io"

	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/examples/internal/example"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/stages/tools"
)

func main() { example.Main("testpattern", run) }

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := example.Flags("testpattern")
	addr := fs.String("addr", ":8554", "listen address")
	name := fs.String("name", "live", "stream path: rtsp://host/<name>")
	fps := fs.Float64("fps", 25, "frame rate")
	width := fs.Int("width", 640, "picture width, a multiple of 8")
	height := fs.Int("height", 480, "picture height, a multiple of 8")
	if err := fs.Parse(args); err != nil {
		return err
	}
	live := server.NewLive(*fps)
	p := pipeline.New()
	frames := pipeline.From(p, "generator", &tools.Generator{Width: *width, Height: *height, FPS: *fps, RealTime: true})
	pipeline.To(p, "live", live, frames)
	return example.ServeLive(ctx, stdout, server.Config{Addr: *addr}, *name, live, p.Run)
}
