package interop

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// warmFrames is how many frames from the start of each re-encoded media
// the tests play at most: ffmpeg's 3 s (75 frames), with a margin.
const warmFrames = 90

// warmUp fills the server's cache of re-encoded frames before the tests
// run. The server re-encodes a frame RFC 2435 cannot carry when a session
// first plays it; with the race detector Go's image/jpeg is about ten
// times slower, so a 1280x720 first play falls seconds behind real time
// (without -race it keeps up: see TestFirstPlayReencode). The tests are
// about interoperability, so they get streams at the real rate. Every
// media is warmed by two TCP sessions playing one half each, so that both
// cores work.
func warmUp() (time.Duration, error) {
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, md := range catalog {
		if md.carriable || md.skip != "" || md.err != nil {
			continue
		}
		half := warmFrames / 2
		for _, r := range [][2]int{{0, half}, {half, warmFrames}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := warmRange(md, r[0], r[1]); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("warming %s frames %d..%d: %w", md.name, r[0], r[1], err))
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	return time.Since(start), errors.Join(errs...)
}

// warmRange plays frames [from, to) of md over TCP.
func warmRange(md *media, from, to int) error {
	to = min(to, md.frames)
	if from >= to {
		return nil
	}
	c, err := dialRTSP(strings.TrimSuffix(strings.TrimPrefix(baseURL, "rtsp://"), "/"))
	if err != nil {
		return err
	}
	defer c.Close()
	frames := 0
	c.onInterleaved = func(ch byte, data []byte) {
		if ch == 0 && len(data) > 1 && data[1]&0x80 != 0 { // RTP marker: end of frame
			frames++
		}
	}
	resp, err := c.do("SETUP", md.url()+"/trackID=0", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
	if err != nil {
		return err
	}
	if resp.code != 200 {
		return fmt.Errorf("SETUP: %d %s", resp.code, resp.reason)
	}
	sess, _, _ := strings.Cut(resp.header.Get("Session"), ";")
	c.session = strings.TrimSpace(sess)
	resp, err = c.do("PLAY", md.url(), fmt.Sprintf("Range: npt=%.3f-", float64(from)/fps))
	if err != nil {
		return err
	}
	if resp.code != 200 {
		return fmt.Errorf("PLAY: %d %s", resp.code, resp.reason)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for frames < to-from {
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d frames in 3 minutes", frames)
		}
		if _, err := c.read(deadline); err != nil {
			return fmt.Errorf("after %d frames: %w", frames, err)
		}
	}
	resp, err = c.do("TEARDOWN", md.url())
	if err != nil {
		return err
	}
	if resp.code != 200 {
		return fmt.Errorf("TEARDOWN: %d %s", resp.code, resp.reason)
	}
	return nil
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
