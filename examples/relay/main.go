// Command relay is a one-stream RTSP proxy: it plays -from with the client
// and serves what it receives, to any number of viewers, at
// rtsp://<addr>/<name>. It shows a client's Output feeding a server.Live
// published with Server.Publish; frames are passed on as received.
//
//	relay -from rtsp://camera:554/stream -addr :8555 -name cam1
package main

import (
	"context"
	"io"
	"sync/atomic"

	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/examples/internal/example"
	"github.com/actorstream/actorstream/pipeline"
)

func main() { example.Main("relay", run) }

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := example.Flags("relay")
	from := fs.String("from", "", "upstream stream, rtsp://host[:port]/path")
	addr := fs.String("addr", ":8554", "listen address")
	name := fs.String("name", "relay", "stream path: rtsp://host/<name>")
	transport := fs.String("transport", "auto", "upstream transport: udp, tcp or auto")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// Output is wired at Dial, the Live once SETUP has told the frame rate.
	var live atomic.Pointer[server.Live]
	relay := pipeline.SinkFunc[*pipeline.Frame](func(ctx context.Context, in <-chan *pipeline.Frame) error {
		for f, ok := pipeline.Recv(ctx, in); ok; f, ok = pipeline.Recv(ctx, in) {
			if l := live.Load(); l != nil {
				_ = l.Publish(f.Data) // a frame that is not a JPEG is skipped
			}
			f.Release()
		}
		return ctx.Err()
	})
	c, err := example.Dial(ctx, client.Config{URL: *from, Transport: *transport,
		Output: func(p *pipeline.Pipeline, frames <-chan *pipeline.Frame) { pipeline.To(p, "relay", relay, frames) }})
	if err != nil {
		return err
	}
	defer c.Close()
	live.Store(server.NewLive(c.Info().FPS)) // 0 (not announced) means 25
	// Play until upstream ends or ctx does; the client closes before the server shuts down.
	return example.ServeLive(ctx, stdout, server.Config{Addr: *addr}, *name, live.Load(),
		func(ctx context.Context) error { return example.Play(ctx, c) })
}
