package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/actorstream/actorstream/engine/server"
)

// mediaExts are the name endings the start-up listing takes for media
// files (compared without case: the lab's file is movie.Mjpeg). Any file
// can be requested; these are the ones worth showing.
var mediaExts = []string{".mjpeg", ".mjpg", ".avi", ".mkv", ".webm", ".mp4", ".mov"}

// Bounds of the start-up listing, so that a server started in a large
// tree (a home directory, a camera's archive) starts at once.
const (
	listMax   = 20       // files listed by name; the rest are counted
	walkMax   = 20000    // directory entries looked at in all
	walkDepth = 3        // levels of subdirectories looked into
	probeMax  = 64 << 20 // bytes of the listed files indexed at start-up
)

// mediaFile is a file of the listing.
type mediaFile struct {
	name string // slash-separated path under the root
	size int64
}

// listing is what findMedia found.
type listing struct {
	files   []mediaFile // the first listMax, in lexical order
	more    int         // files found beyond those
	partial bool        // the walk stopped at walkMax or walkDepth
}

// findMedia walks fsys (the media root) for media files by name, looking
// at no more than walkMax entries and walkDepth levels, and skipping
// hidden files and directories. Names come from directory entries alone:
// no file is opened.
func findMedia(fsys fs.FS) (listing, error) {
	var l listing
	seen := 0
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == "." {
				return err
			}
			return nil // an unreadable subdirectory: list the rest
		}
		if p == "." {
			return nil
		}
		if seen++; seen > walkMax {
			l.partial = true
			return fs.SkipAll
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if strings.Count(p, "/") >= walkDepth-1 {
				l.partial = true
				return fs.SkipDir
			}
			return nil
		}
		if !isMedia(d.Name()) || !(d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0) {
			return nil
		}
		if len(l.files) == listMax {
			l.more++
			return nil
		}
		var size int64
		if info, err := d.Info(); err == nil {
			size = info.Size()
		}
		l.files = append(l.files, mediaFile{name: p, size: size})
		return nil
	})
	return l, err
}

func isMedia(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	for _, e := range mediaExts {
		if ext == e {
			return true
		}
	}
	return false
}

// printListing writes the listing, one file a line. The listed files are
// indexed through probe (the server's own loader, so the line says what a
// client will get) while their sizes add up to at most probeMax; bigger
// ones are indexed when first played. It returns the name of the first
// file that can be played, for the example URLs ("" if none).
func printListing(w io.Writer, dir string, l listing, probe func(string) (*server.Media, error)) string {
	n := len(l.files) + l.more
	switch {
	case n == 0:
		fmt.Fprintf(w, "serving %s: no media files found in it (%s)\n", dir, strings.Join(mediaExts, " "))
		return ""
	case l.partial:
		fmt.Fprintf(w, "serving %s (%d media %s in the first %d levels and %d entries looked at):\n",
			dir, n, plural(n, "file", "files"), walkDepth, walkMax)
	default:
		fmt.Fprintf(w, "serving %s (%d media %s):\n", dir, n, plural(n, "file", "files"))
	}
	width := 0
	for _, f := range l.files {
		width = max(width, len(f.name))
	}
	first := ""
	var budget int64 = probeMax
	for _, f := range l.files {
		what := "indexed when first played"
		if f.size <= budget {
			budget -= f.size
			m, err := probe(f.name)
			switch {
			case err != nil:
				what = "cannot be played: " + strings.TrimPrefix(reason(err), f.name+": ")
			default:
				what = summary(m)
				if first == "" {
					first = f.name
				}
			}
		} else if first == "" {
			first = f.name
		}
		fmt.Fprintf(w, "  %-*s  %9s  %s\n", width, f.name, bytes(f.size), what)
	}
	if l.more > 0 {
		fmt.Fprintf(w, "  … and %d more\n", l.more)
	}
	return first
}

// reason is err's text; ErrNoMedia (a file gone since the walk, or one
// the root does not let out, such as a symlink leading outside it) is
// said as such.
func reason(err error) string {
	if errors.Is(err, server.ErrNoMedia) {
		return "not found, or outside the media root"
	}
	return err.Error()
}

// summary is what a client gets from m: frames, rate and picture size.
func summary(m *server.Media) string {
	w, h := m.Dimensions()
	n := m.Frames()
	return fmt.Sprintf("%d %s, %g fps, %dx%d", n, plural(n, "frame", "frames"), m.FPS, w, h)
}

// plural is one when n is 1, else many.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// bytes is n in binary units, as ls -h writes it.
func bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, u := float64(n)/unit, 0
	for f >= unit && u < 4 {
		f /= unit
		u++
	}
	return fmt.Sprintf("%.1f %ciB", f, "KMGTP"[u])
}
