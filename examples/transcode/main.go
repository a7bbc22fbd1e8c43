// Command transcode serves the MJPEG files of a directory over RTSP, every
// client getting a re-encoded stream: smaller (-scale) and/or at another
// JPEG quality. It shows a custom server.PipelineFactory: the default
// pieces of server.PlayContext with a tools.Transcode between them.
//
//	transcode -addr :8554 -root DIR -scale 0.5 -quality 50
//
// Without -root it serves a generated demo clip.
package main

import (
	"context"
	"errors"
	"io"

	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/examples/internal/example"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/stages/tools"
)

func main() { example.Main("transcode", run) }

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := example.Flags("transcode")
	addr := fs.String("addr", ":8554", "listen address")
	root := fs.String("root", "", "directory of MJPEG files (default: a generated demo clip)")
	scale := fs.Float64("scale", 0.5, "output size relative to the source, in (0, 4]")
	quality := fs.Int("quality", 50, "JPEG quality, 1..100")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *scale <= 0 || *scale > 4 || *quality < 1 || *quality > 100 {
		return errors.New("want -scale in (0, 4] and -quality in 1..100")
	}
	return example.ServeFiles(ctx, stdout, server.Config{Addr: *addr, Root: *root, Loop: true,
		Pipeline: func(pc *server.PlayContext) *pipeline.Pipeline {
			// Transcode takes a size (rounded to multiples of 8), not a ratio.
			w, h := pc.Media.Dimensions()
			t := &tools.Transcode{Width: int(float64(w) * *scale), Height: int(float64(h) * *scale), Quality: *quality}
			p := pipeline.New()
			pc.Send(p, pc.Packets(p, pipeline.Then(p, "transcode", t, pc.Frames(p))))
			return p
		}})
}
