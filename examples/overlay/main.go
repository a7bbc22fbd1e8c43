// Command overlay serves the MJPEG files of a directory over RTSP with a
// line of text burnt into every frame: -name, the frame number and the
// wall-clock time, so that a viewer can tell a live picture from a frozen
// one and measure latency. It shows a custom server.PipelineFactory with a
// tools.Overlay between the default frames and packets.
//
//	overlay -addr :8554 -root DIR -name studio-1
//
// Without -root it serves a generated demo clip.
package main

import (
	"context"
	"io"

	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/examples/internal/example"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/stages/tools"
)

func main() { example.Main("overlay", run) }

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := example.Flags("overlay")
	addr := fs.String("addr", ":8554", "listen address")
	root := fs.String("root", "", "directory of MJPEG files (default: a generated demo clip)")
	name := fs.String("name", "actorstream", "text drawn before the frame number and time")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return example.ServeFiles(ctx, stdout, server.Config{Addr: *addr, Root: *root, Loop: true,
		Pipeline: func(pc *server.PlayContext) *pipeline.Pipeline {
			p := pipeline.New()
			// A new Overlay per PLAY: a stage value belongs to one pipeline.
			marked := pipeline.Then(p, "overlay", &tools.Overlay{Name: *name}, pc.Frames(p))
			pc.Send(p, pc.Packets(p, marked))
			return p
		}})
}
