// Command relay is a one-stream RTSP proxy: it plays -from with the client
// and serves what it receives, to any number of viewers, at
// rtsp://<addr>/<name>. It shows a client's Output feeding an engine.Live
// published with Server.Publish; frames are passed on as received.
//
//	relay -from rtsp://camera:554/stream -addr :8554 -name cam1
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"time"

	"github.com/actorstream/actorstream/engine"
	"github.com/actorstream/actorstream/pipeline"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "relay:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("relay", flag.ContinueOnError)
	from := fs.String("from", "", "upstream stream, rtsp://host[:port]/path")
	addr := fs.String("addr", ":8554", "listen address")
	name := fs.String("name", "relay", "stream path: rtsp://host/<name>")
	transport := fs.String("transport", "auto", "upstream transport: udp, tcp or auto")
	if err := fs.Parse(args); err != nil {
		return err
	}
	srv, err := engine.New(engine.Config{Addr: *addr})
	if err != nil {
		return err
	}
	// The Live needs the upstream frame rate, known only after Setup, but
	// Output is wired at Dial: frames go through this pointer.
	var live atomic.Pointer[engine.Live]
	client, err := engine.Dial(ctx, engine.ClientConfig{URL: *from, Transport: *transport,
		Output: func(p *pipeline.Pipeline, frames <-chan *pipeline.Frame) {
			pipeline.To(p, "relay", pipeline.SinkFunc[*pipeline.Frame](func(ctx context.Context, in <-chan *pipeline.Frame) error {
				for f, ok := pipeline.Recv(ctx, in); ok; f, ok = pipeline.Recv(ctx, in) {
					if l := live.Load(); l != nil {
						_ = l.Publish(f.Data) // a frame that is not a JPEG is skipped
					}
					f.Release()
				}
				return ctx.Err()
			}), frames)
		}})
	if err != nil {
		return err
	}
	defer client.Close()
	if err := client.Setup(); err != nil {
		return err
	}
	l := engine.NewLive(client.Info().FPS) // 0 (not announced) means 25
	if err := srv.Publish(*name, l); err != nil {
		return err
	}
	live.Store(l)
	if err := client.Play(); err != nil {
		return err
	}
	ln, err := srv.Listen()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "serving rtsp://%s/%s\n", ln.Addr(), *name)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err = <-served: // accepting failed
	case <-client.Done(): // upstream ended
		err = client.Err()
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = errors.Join(err, srv.Shutdown(sctx), client.Close())
	if srvErr := <-served; !errors.Is(srvErr, engine.ErrServerClosed) {
		err = errors.Join(err, srvErr)
	}
	return err
}
