package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
)

// TestFindMediaIsBounded: a folder of thousands of clips lists listMax of
// them and counts the rest; other files, hidden ones and folders deeper
// than walkDepth are not listed.
func TestFindMediaIsBounded(t *testing.T) {
	fsys := fstest.MapFS{
		"notes.txt":           {Data: []byte("x")},
		".hidden.mjpeg":       {Data: []byte("x")},
		".cache/a.mjpeg":      {Data: []byte("x")},
		"movie.Mjpeg":         {Data: make([]byte, 3000)},
		"cams/a/b/deep.mjpeg": {Data: []byte("x")}, // level 4
		"cams/a/cam.avi":      {Data: []byte("x")},
	}
	for i := range 3000 {
		fsys[fmt.Sprintf("clips/%04d.mjpg", i)] = &fstest.MapFile{Data: []byte("x")}
	}
	l, err := findMedia(fsys)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range l.files {
		names = append(names, f.name)
	}
	want := []string{"cams/a/cam.avi"} // then clips/, in lexical order
	for i := range listMax - 1 {
		want = append(want, fmt.Sprintf("clips/%04d.mjpg", i))
	}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("listed %q\nwant     %q", names, want)
	}
	if found := 3000 + 2; l.more != found-listMax || !l.partial {
		t.Errorf("more = %d, partial = %v; want %d, true", l.more, l.partial, found-listMax)
	}

	var out strings.Builder
	printListing(&out, "/srv/video", l, func(name string) (*server.Media, error) {
		if name == "cams/a/cam.avi" {
			return nil, errors.New(name + ": not an MJPEG file: no frames")
		}
		return &server.Media{FPS: 20, Width: 384, Height: 288, Index: &mjpeg.Index{Sizes: []int{1}}}, nil
	})
	for _, line := range []string{
		"serving /srv/video (3002 media files in the first 3 levels and 20000 entries looked at):",
		"  cams/a/cam.avi         1 B  cannot be played: not an MJPEG file: no frames\n",
		"  clips/0000.mjpg        1 B  1 frame, 20 fps, 384x288\n",
		"  … and 2982 more",
	} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("listing has no line %q:\n%s", line, out.String())
		}
	}
}

// TestListingProbesWithinABudget: files are indexed at start-up only while
// their sizes add up to probeMax; the others are left for their first
// request.
func TestListingProbesWithinABudget(t *testing.T) {
	l := listing{files: []mediaFile{{"a.mjpeg", probeMax - 10}, {"big.mjpeg", 100}, {"c.mjpeg", 10}}}
	var probed []string
	first := printListing(io.Discard, "/x", l, func(name string) (*server.Media, error) {
		probed = append(probed, name)
		return nil, server.ErrNoMedia
	})
	if strings.Join(probed, " ") != "a.mjpeg c.mjpeg" {
		t.Errorf("probed %q, want a.mjpeg and c.mjpeg", probed)
	}
	if first != "big.mjpeg" {
		t.Errorf("first playable %q, want big.mjpeg (not known to fail)", first)
	}
}

func TestEmptyListing(t *testing.T) {
	var out strings.Builder
	if first := printListing(&out, "/x", listing{}, nil); first != "" {
		t.Errorf("first = %q", first)
	}
	if !strings.Contains(out.String(), "no media files found") {
		t.Errorf("got %q", out.String())
	}
}

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 4269893: "4.1 MiB", 3 << 30: "3.0 GiB"} {
		if got := bytes(n); got != want {
			t.Errorf("bytes(%d) = %q, want %q", n, got, want)
		}
	}
}
