package server_test

import (
	"context"
	"fmt"

	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/pipeline"
)

// A server whose sessions all run a custom pipeline: the default pieces,
// with a stage of our own inserted between the frames and the packetizer.
// Any Stage[*pipeline.Frame, *pipeline.Frame] fits there (an Overlay, a
// Transcode, a Rate...); this one reports each frame as progress.
func ExampleConfig_pipeline() {
	countFrames := pipeline.StageFunc[*pipeline.Frame, *pipeline.Frame](
		func(ctx context.Context, in <-chan *pipeline.Frame, out chan<- *pipeline.Frame) error {
			for {
				f, ok := pipeline.Recv(ctx, in)
				if !ok {
					return ctx.Err()
				}
				pipeline.Report(ctx, pipeline.Event{Kind: pipeline.Progress, N: 1})
				if !pipeline.Send(ctx, out, f) {
					f.Release()
					return ctx.Err()
				}
			}
		})

	srv, err := server.New(server.Config{
		Addr: "127.0.0.1:0",
		Root: ".",
		Pipeline: func(pc *server.PlayContext) *pipeline.Pipeline {
			p := pipeline.New()
			counted := pipeline.Then(p, "count", countFrames, pc.Frames(p))
			pc.Send(p, pc.Packets(p, counted))
			return p
		},
	})
	fmt.Println(err)
	_ = srv // srv.ListenAndServe() would serve every session through it
	// Output:
	// <nil>
}
