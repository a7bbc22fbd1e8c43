package server

import (
	"errors"
	"io/fs"
	"slices"
	"strings"

	"github.com/actorstream/actorstream/pipeline/codec/container"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
)

// MaxPaths bounds what Paths lists (and how many directory entries it
// looks at: ten times as many), so that a huge media tree costs an index
// page no more than that.
const MaxPaths = 1000

// Path is one entry of Paths.
type Path struct {
	Name string // as rtsp://host/<Name> names it
	Live bool   // a live stream (Publish) rather than a file
}

// Paths lists what the server can be asked to play: the live streams
// published, then the files under the root whose first bytes are video
// it knows (MJPEG raw or lab, AVI, Matroska, MP4), sorted by name, at most
// MaxPaths. Which codec a container holds is known only once it is opened:
// one of another codec is listed too, and answers 415 with the reason when
// played. A file under a live stream's name is not listed (the live
// stream is what plays). Hidden files and directories (".name") are left out, though
// they play when named; a symlink is listed when it resolves inside the
// root.
func (s *Server) Paths() []Path {
	c := s.media
	var paths []Path
	c.mu.Lock()
	for name := range c.lives {
		paths = append(paths, Path{Name: name, Live: true})
	}
	for name := range c.relays { // listed whether pulled now or not
		if c.lives[name] == nil {
			paths = append(paths, Path{Name: name, Live: true})
		}
	}
	c.mu.Unlock()
	slices.SortFunc(paths, func(a, b Path) int { return strings.Compare(a.Name, b.Name) })
	var files []Path
	seen := 0
	errStop := errors.New("enough")
	_ = fs.WalkDir(c.root.FS(), ".", func(name string, d fs.DirEntry, err error) error {
		if seen++; seen > 10*MaxPaths || len(files) >= MaxPaths {
			return errStop
		}
		if err != nil || name == "." {
			return nil // an unreadable directory: list the rest
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || slices.Contains(paths, Path{Name: name, Live: true}) || !c.looksPlayable(name) {
			return nil
		}
		files = append(files, Path{Name: name})
		return nil
	})
	slices.SortFunc(files, func(a, b Path) int { return strings.Compare(a.Name, b.Name) })
	return append(paths, files...)[:min(len(paths)+len(files), MaxPaths)]
}

// looksPlayable reports whether the regular file name (a symlink resolved
// inside the root) starts like video the server plays.
func (c *catalog) looksPlayable(name string) bool {
	f, err := c.root.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return false
	}
	var head [12]byte
	n, _ := f.ReadAt(head[:], 0)
	if container.Detect(head[:n]) != "" {
		return true
	}
	format, err := mjpeg.Detect(head[:n])
	return err == nil && format != mjpeg.FormatUnknown
}
