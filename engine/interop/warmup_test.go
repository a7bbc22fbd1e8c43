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
// the tests play at most: ffmpeg's 3 s (frames 0..75), with a margin.
const warmFrames = 80

// warmUp fills the server's cache of re-encoded frames before the tests
// run. The server re-encodes a frame RFC 2435 cannot carry when a session
// first plays it; under the race detector Go's image/jpeg is about 18
// times slower (~0.5 s a 1280x720 frame), so a first play falls far behind
// real time (without -race it keeps up: see TestFirstPlayReencode). The
// tests are about interoperability, so they get streams at the real rate.
// Each media is warmed by several TCP sessions playing a part each, so that
// both cores work.
func warmUp() (time.Duration, error) {
	const parts = 4
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, md := range catalog {
		if md.carriable || md.skip != "" || md.err != nil {
			continue
		}
		for i := range parts {
			from, to := i*warmFrames/parts, (i+1)*warmFrames/parts
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := warmRange(md, from, to); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("warming %s frames %d..%d: %w", md.name, from, to, err))
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
	// Under -race this can take longer than the session timeout, and TCP
	// sessions time out too: keep it alive, as a real client would.
	deadline := time.Now().Add(3 * time.Minute)
	keepalive := time.Now()
	for frames < to-from {
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d frames in 3 minutes", frames)
		}
		if time.Since(keepalive) > 5*time.Second {
			if _, err := c.send("GET_PARAMETER", md.url()); err != nil {
				return err
			}
			keepalive = time.Now()
		}
		resp, err := c.read(time.Now().Add(20 * time.Second))
		if err != nil {
			return fmt.Errorf("after %d frames: %w", frames, err)
		}
		if resp != nil && resp.code != 200 {
			return fmt.Errorf("GET_PARAMETER: %d %s", resp.code, resp.reason)
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
