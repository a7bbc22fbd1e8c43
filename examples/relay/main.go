// Command relay is a one-stream RTSP proxy: it plays -from with the client
// and serves what it receives, to any number of viewers, at
// rtsp://<addr>/<name>. It shows a client's Output feeding an server.Live
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

	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/pipeline"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "relay:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) (err error) {
	fs := flag.NewFlagSet("relay", flag.ContinueOnError)
	from := fs.String("from", "", "upstream stream, rtsp://host[:port]/path")
	addr := fs.String("addr", ":8554", "listen address")
	name := fs.String("name", "relay", "stream path: rtsp://host/<name>")
	transport := fs.String("transport", "auto", "upstream transport: udp, tcp or auto")
	if err := fs.Parse(args); err != nil {
		return err
	}
	srv, err := server.New(server.Config{Addr: *addr})
	if err != nil {
		return err
	}
	ln, err := srv.Listen()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	served := make(chan error, 1)
	go func() { defer cancel(); served <- srv.Serve(ln) }()
	defer func() {
		sctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
		defer stop()
		err = errors.Join(err, srv.Shutdown(sctx))
		if srvErr := <-served; !errors.Is(srvErr, server.ErrServerClosed) {
			err = errors.Join(err, srvErr)
		}
	}()

	// Output is wired at Dial, the Live once Setup has told the frame rate.
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
	client, err := client.Dial(ctx, client.Config{URL: *from, Transport: *transport,
		Output: func(p *pipeline.Pipeline, frames <-chan *pipeline.Frame) { pipeline.To(p, "relay", relay, frames) }})
	if err != nil {
		return err
	}
	defer client.Close() // before the server shuts down
	if err := client.Setup(); err != nil {
		return err
	}
	l := server.NewLive(client.Info().FPS) // 0 (not announced) means 25
	live.Store(l)
	if err := errors.Join(srv.Publish(*name, l), client.Play()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "serving rtsp://%s/%s\n", ln.Addr(), *name)
	select {
	case <-client.Done(): // upstream ended
		return client.Err()
	case <-ctx.Done(): // interrupted, or Serve failed (see above)
		return nil
	}
}
