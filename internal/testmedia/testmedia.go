// Package testmedia finds the media tests share with the rest of the team:
// the original lab's movie.Mjpeg, which is not ours to commit and lives in
// the shared folder beside the checkout (../shared/media/).
package testmedia

import (
	"os"
	"path/filepath"
)

// LabMovie is the path of the lab's movie.Mjpeg: $ACTORSTREAM_SHARED/media
// when that is set, otherwise shared/media beside the module's root (the
// checkout), found by walking up from the working directory. The file may
// not exist; callers decide whether that skips or fails a test.
func LabMovie() string {
	return filepath.Join(SharedDir(), "media", "movie.Mjpeg")
}

// SharedDir is the shared folder beside the checkout.
func SharedDir() string {
	if dir := os.Getenv("ACTORSTREAM_SHARED"); dir != "" {
		return dir
	}
	dir, err := os.Getwd()
	if err != nil {
		return "../shared"
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(filepath.Dir(dir), "shared")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "../shared"
		}
		dir = parent
	}
}
