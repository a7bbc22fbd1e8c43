// Command testpattern serves a live test pattern (colour bars, a bouncing
// box, a frame counter) at rtsp://host/<name> to any number of viewers. It
// shows a live stream: a pipeline whose source is a real-time
// tools.Generator and whose sink is an server.Live, published with
// Server.Publish.
//
//	testpattern -addr :8554 -name live -fps 25
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

	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/stages/tools"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "testpattern:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("testpattern", flag.ContinueOnError)
	addr := fs.String("addr", ":8554", "listen address")
	name := fs.String("name", "live", "stream path: rtsp://host/<name>")
	fps := fs.Float64("fps", 25, "frame rate")
	width := fs.Int("width", 640, "picture width, a multiple of 8")
	height := fs.Int("height", 480, "picture height, a multiple of 8")
	if err := fs.Parse(args); err != nil {
		return err
	}
	srv, err := server.New(server.Config{Addr: *addr})
	if err != nil {
		return err
	}
	live := server.NewLive(*fps)
	if err := srv.Publish(*name, live); err != nil {
		return err
	}
	ln, err := srv.Listen()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "serving rtsp://%s/%s\n", ln.Addr(), *name)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p := pipeline.New()
	frames := pipeline.From(p, "generator", &tools.Generator{Width: *width, Height: *height, FPS: *fps, RealTime: true})
	pipeline.To(p, "live", live, frames)
	generated, served := make(chan error, 1), make(chan error, 1)
	go func() { defer cancel(); generated <- p.Run(ctx) }()
	go func() { defer cancel(); served <- srv.Serve(ln) }()
	<-ctx.Done() // interrupted, or one of the two failed

	sctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	err = srv.Shutdown(sctx)
	genErr, srvErr := <-generated, <-served
	if errors.Is(genErr, ctx.Err()) { // stopped, not failed
		genErr = nil
	}
	if errors.Is(srvErr, server.ErrServerClosed) {
		srvErr = nil
	}
	return errors.Join(genErr, srvErr, err)
}
