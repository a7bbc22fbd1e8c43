// Package example holds the plumbing every example program needs and none
// of them is about: Ctrl-C handling, flags, a logger, starting a server and
// printing where it serves, playing a stream until enough has come. With it,
// each example's main.go shows only the pipeline it composes.
//
// Every example has a run(ctx, args, stdout) function doing all its work,
// so that its test can run it in the same process; Main calls it for the
// command line.
package example

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/engine/demo"
	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/hosturl"
	"github.com/actorstream/actorstream/pipeline"
)

// RunFunc is an example's body: it works until ctx ends (or its own work
// is done), reading its flags from args and printing to stdout.
type RunFunc func(ctx context.Context, args []string, stdout io.Writer) error

// Main runs an example from the command line: its context ends on Ctrl-C
// or SIGTERM. An error is printed after the example's name and exits with
// status 1 (-h, which has printed the usage, exits 0).
func Main(name string, run RunFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

// Flags returns an empty flag set for the named example. Parse errors (and
// -h) are returned to run, not turned into an exit, so that tests can see
// them.
func Flags(name string) *flag.FlagSet { return flag.NewFlagSet(name, flag.ContinueOnError) }

// Logger is the engine's log in the examples: warnings and errors, on
// stderr, named after the program; ACTORSTREAM_LOG_LEVEL (trace, debug,
// info, …) says more, e.g. why a stream ended.
func Logger() hclog.Logger {
	name := strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
	level := hclog.Warn
	if l := hclog.LevelFromString(os.Getenv("ACTORSTREAM_LOG_LEVEL")); l != hclog.NoLevel {
		level = l
	}
	return hclog.New(&hclog.LoggerOptions{Name: name, Level: level, Output: os.Stderr})
}

// shutdownGrace bounds how long a server may take to end its sessions.
const shutdownGrace = 5 * time.Second

// demoClip is the clip ServeFiles generates without a Root (tests make it
// smaller: generating the full one takes seconds under the race detector).
var demoClip = demo.Options{}

// ServeFiles serves the MJPEG files under cfg.Root until ctx ends. An
// empty Root serves the demo clip (engine/demo) instead, generated into a
// temporary directory removed on return. Once listening it prints
// "serving rtsp://HOST:PORT/", and for the demo a line with the clip's
// URL.
func ServeFiles(ctx context.Context, stdout io.Writer, cfg server.Config) error {
	clip := ""
	if cfg.Root == "" {
		dir, err := os.MkdirTemp("", "actorstream-example-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if _, err := demo.WriteFile(dir, demoClip); err != nil {
			return err
		}
		cfg.Root, clip = dir, demo.FileName
	}
	srv, ln, err := listen(cfg)
	if err != nil {
		return err
	}
	printServing(stdout, ln, "")
	if clip != "" {
		fmt.Fprintf(stdout, "demo clip: %s\n", URL(ln, clip))
	}
	return srv.Run(ctx, ln)
}

// ServeLive serves live at rtsp://HOST:PORT/<name>, printing "serving
// <that URL>" once listening, while feed (what puts frames into live)
// runs. It stops when ctx ends, when feed returns or when serving fails,
// then shuts the server down. feed's context ends in all three cases; an
// error of feed's that only says so is not one.
func ServeLive(ctx context.Context, stdout io.Writer, cfg server.Config, name string, live *server.Live, feed func(context.Context) error) error {
	srv, ln, err := listen(cfg)
	if err != nil {
		return err
	}
	if err := srv.Publish(name, live); err != nil {
		ln.Close()
		return errors.Join(err, shutdown(srv))
	}
	printServing(stdout, ln, name)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	served := make(chan error, 1)
	go func() { defer cancel(); served <- srv.Serve(ln) }()
	err = feed(ctx)
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		err = nil // stopped, not failed
	}
	err = errors.Join(err, shutdown(srv))
	if srvErr := <-served; !errors.Is(srvErr, server.ErrServerClosed) {
		err = errors.Join(err, srvErr)
	}
	return err
}

// listen makes a server of cfg (logging with Logger unless cfg.Log is set)
// and opens its address.
func listen(cfg server.Config) (*server.Server, net.Listener, error) {
	if cfg.Log == nil {
		cfg.Log = Logger()
	}
	srv, err := server.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	ln, err := srv.Listen()
	if err != nil {
		return nil, nil, errors.Join(err, shutdown(srv))
	}
	return srv, ln, nil
}

func shutdown(srv *server.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	return srv.Shutdown(ctx)
}

// URL is the rtsp:// URL of path on the server listening on ln that a
// client on the same machine can dial: for a listener on every address
// (":8554"), the loopback one (internal/hosturl, which the server command
// uses too).
func URL(ln net.Listener, path string) string { return hosturl.URLs("rtsp", ln.Addr(), path)[0] }

// printServing prints "serving URL" (URL's) and, for a listener on every
// address, the URLs of the machine's other addresses, one a line.
func printServing(stdout io.Writer, ln net.Listener, path string) {
	urls := hosturl.URLs("rtsp", ln.Addr(), path)
	fmt.Fprintf(stdout, "serving %s\n", urls[0])
	for _, u := range urls[1:] {
		fmt.Fprintf(stdout, "  also %s\n", u)
	}
}

// Dial connects to cfg.URL and sets the stream up (DESCRIBE, SETUP), ready
// for Play; the client logs with Logger unless cfg.Log is set. The
// client's Output pipeline starts here.
func Dial(ctx context.Context, cfg client.Config) (*client.Client, error) {
	if cfg.Log == nil {
		cfg.Log = Logger()
	}
	c, err := client.Dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := c.Setup(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Play plays c until the stream ends or ctx ends (an example ends ctx
// itself once it has had enough), then closes c, which lets its Output
// pipeline finish the frames it was handed. It returns why the session
// ended: nil for a normal end.
func Play(ctx context.Context, c *client.Client) error {
	defer c.Close()
	if err := c.Play(); err != nil {
		return err
	}
	select {
	case <-c.Done():
	case <-ctx.Done():
	}
	c.Close()
	return c.Err()
}

// DialAndPlay is Dial, then Play.
func DialAndPlay(ctx context.Context, cfg client.Config) error {
	c, err := Dial(ctx, cfg)
	if err != nil {
		return err
	}
	return Play(ctx, c)
}

// Count is n followed by noun, plural unless n is 1: "1 frame", "2 frames".
func Count(n uint64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatUint(n, 10) + " " + noun + "s"
}

// Filter is a stage passing on the frames keep returns true for and
// releasing the others. keep runs on the stage's goroutine, one frame at a
// time, so it may keep state of its own without locking.
func Filter(keep func(f *pipeline.Frame) bool) pipeline.Stage[*pipeline.Frame, *pipeline.Frame] {
	return pipeline.StageFunc[*pipeline.Frame, *pipeline.Frame](func(ctx context.Context, in <-chan *pipeline.Frame, out chan<- *pipeline.Frame) error {
		for {
			f, ok := pipeline.Recv(ctx, in)
			switch {
			case !ok:
				return ctx.Err()
			case !keep(f):
				f.Release()
			case !pipeline.Send(ctx, out, f):
				f.Release()
				return ctx.Err()
			}
		}
	})
}
