package interop

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// warmUp fills the server's cache of re-encoded frames before the tests
// run, with Server.Prepare. Without it the server re-encodes in the
// background from the first request on; under the race detector Go's
// image/jpeg is about 18 times slower (~0.5 s a 1280x720 frame), so a first
// play would fall far behind real time (without -race it keeps up: see
// TestFirstPlayReencode). The tests are about interoperability, so they get
// streams at the real rate.
func warmUp() (time.Duration, error) {
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, md := range catalog {
		if md.carriable || md.skip != "" || md.err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			if err := theServer.Prepare(ctx, md.name); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("preparing %s: %w", md.name, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return time.Since(start), errors.Join(errs...)
}

// coldCopy copies a media file under a new name, which the server treats
// as a new media with an empty re-encoding cache.
func coldCopy(md *media, name string) (*media, error) {
	data, err := os.ReadFile(filepath.Join(mediaDir, md.name))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(mediaDir, name), data, 0o644); err != nil {
		return nil, err
	}
	cp := *md
	cp.name = name
	return &cp, nil
}
