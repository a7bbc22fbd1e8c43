// Command overlay serves the MJPEG files of a directory over RTSP with a
// line of text burnt into every frame: -name, the frame number and the
// wall-clock time, so that a viewer can tell a live picture from a frozen
// one and measure latency. It shows a custom server.PipelineFactory with a
// tools.Overlay between the default frames and packets.
//
//	overlay -addr :8554 -root media -name studio-1
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/stages/tools"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "overlay:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("overlay", flag.ContinueOnError)
	addr := fs.String("addr", ":8554", "listen address")
	root := fs.String("root", ".", "directory of MJPEG files")
	name := fs.String("name", "actorstream", "text drawn before the frame number and time")
	if err := fs.Parse(args); err != nil {
		return err
	}
	srv, err := server.New(server.Config{Addr: *addr, Root: *root, Loop: true,
		Pipeline: func(pc *server.PlayContext) *pipeline.Pipeline {
			p := pipeline.New()
			// A new Overlay per PLAY: a stage value belongs to one pipeline.
			marked := pipeline.Then(p, "overlay", &tools.Overlay{Name: *name}, pc.Frames(p))
			pc.Send(p, pc.Packets(p, marked))
			return p
		}})
	if err != nil {
		return err
	}
	return serve(ctx, srv, stdout)
}

// serve runs srv until ctx ends, then shuts it down.
func serve(ctx context.Context, srv *server.Server, stdout io.Writer) error {
	ln, err := srv.Listen()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "serving rtsp://%s/\n", ln.Addr())
	return srv.Run(ctx, ln)
}
