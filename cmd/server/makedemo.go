package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/actorstream/actorstream/engine/demo"
)

// makeDemo writes the demo clip into a directory, made if missing, so that
// the commands that serve a folder (-root, examples/README.md) have
// something to serve in a fresh clone:
//
//	server make-demo [-seconds N] [-fps N] [-size WxH] DIR
func makeDemo(args []string) error {
	fs := flag.NewFlagSet("server make-demo", flag.ContinueOnError)
	var o demo.Options
	fs.IntVar(&o.Seconds, "seconds", demo.DefaultSeconds, "length of the clip")
	fs.IntVar(&o.FPS, "fps", demo.DefaultFPS, "frames per second")
	size := fs.String("size", fmt.Sprintf("%dx%d", demo.DefaultWidth, demo.DefaultHeight), "picture size, multiples of 8")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: server make-demo [flags] DIR\n\nwrites DIR/%s, the demo clip, and exits\n\n", demo.FileName)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return flagError{err}
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("want one DIR")
	}
	if _, err := fmt.Sscanf(*size, "%dx%d", &o.Width, &o.Height); err != nil {
		return fmt.Errorf("-size %q: want WIDTHxHEIGHT, such as 640x480", *size)
	}
	dir := fs.Arg(0)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	path, err := demo.WriteFile(dir, o)
	if err != nil {
		return err
	}
	fmt.Printf("wrote %s (%d frames)\n", path, o.Frames())
	return nil
}
