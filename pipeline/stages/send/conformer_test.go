package send

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"strconv"
	"sync"
	"testing"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// svNotCarriable returns JPEGs RFC 2435 cannot carry but Conform can fix,
// by name: one image/jpeg can write (a width that is not a multiple of 8)
// and, when the lab movie is present, real 4:4:4 frames of it.
func svNotCarriable(t *testing.T) map[string][]byte {
	t.Helper()
	m := map[string][]byte{"odd size": svJPEG(t, 60, 44, 3, false)}
	for i, data := range svLabMovieFrames(t, 2) {
		m["lab 4:4:4 #"+strconv.Itoa(i)] = data
	}
	for name, data := range m {
		var j rtpjpeg.JPEG
		if err := rtpjpeg.ParseJPEG(data, &j); !errors.Is(err, rtpjpeg.ErrNotCarriable) {
			t.Fatalf("%s fixture: ParseJPEG = %v, want ErrNotCarriable", name, err)
		}
	}
	return m
}

// TestConformCacheCarriable: a carriable frame is returned as it is, the
// very same slice, and is never re-encoded.
func TestConformCacheCarriable(t *testing.T) {
	c := NewConformCache(75)
	orig := svJPEG(t, 64, 48, 1, false)
	for i := range 2 {
		data, re, err := c.Get(context.Background(), 5, orig)
		if err != nil || re {
			t.Fatalf("call %d: reencoded=%v err=%v", i, re, err)
		}
		if &data[0] != &orig[0] || len(data) != len(orig) {
			t.Errorf("call %d: not the original slice", i)
		}
	}
}

// TestConformCacheReencodesOnce: a frame RFC 2435 cannot carry is
// re-encoded on the first Get only; the second Get reports reencoded=false
// and returns the identical (cached) slice, which is carriable and decodes.
func TestConformCacheReencodesOnce(t *testing.T) {
	for name, orig := range svNotCarriable(t) {
		t.Run(name, func(t *testing.T) {
			c := NewConformCache(80)
			first, re, err := c.Get(context.Background(), 3, orig)
			if err != nil || !re {
				t.Fatalf("first Get: reencoded=%v err=%v, want true, nil", re, err)
			}
			var j rtpjpeg.JPEG
			if err := rtpjpeg.ParseJPEG(first, &j); err != nil {
				t.Errorf("re-encoded frame not carriable: %v", err)
			}
			if _, err := jpeg.Decode(bytes.NewReader(first)); err != nil {
				t.Errorf("re-encoded frame does not decode: %v", err)
			}
			second, re, err := c.Get(context.Background(), 3, orig)
			if err != nil || re {
				t.Fatalf("second Get: reencoded=%v err=%v, want false, nil", re, err)
			}
			if &second[0] != &first[0] || len(second) != len(first) {
				t.Error("second Get did not return the cached slice")
			}
			// Another index is another frame: re-encoded on its own.
			if _, re, _ := c.Get(context.Background(), 4, orig); !re {
				t.Error("a different index hit the first index's entry")
			}
		})
	}
}

// TestConformCacheMalformed: garbage cannot be conformed; the error is
// remembered (no second attempt) and wraps ErrMalformed.
func TestConformCacheMalformed(t *testing.T) {
	c := NewConformCache(75)
	for i := range 2 {
		data, re, err := c.Get(context.Background(), 0, []byte("not a jpeg"))
		if !errors.Is(err, rtpjpeg.ErrMalformed) || data != nil || re {
			t.Errorf("call %d: data=%v reencoded=%v err=%v, want nil, false, ErrMalformed", i, data, re, err)
		}
	}
}

// TestConformCacheConcurrent: sessions share one cache. Under -race,
// several goroutines asking for the same frames must see each frame
// re-encoded exactly once and all get the same bytes.
func TestConformCacheConcurrent(t *testing.T) {
	var origs [][]byte
	for _, data := range svNotCarriable(t) {
		origs = append(origs, data)
	}
	origs = append(origs, svJPEG(t, 64, 48, 2, false)) // carriable
	c := NewConformCache(70)

	const workers = 8
	var (
		mu      sync.Mutex
		reenc   = make(map[int]int)
		results = make(map[int]map[*byte]bool)
		wg      sync.WaitGroup
	)
	for w := range workers {
		wg.Go(func() {
			for k := range len(origs) * 3 {
				idx := (k + w) % len(origs)
				data, re, err := c.Get(context.Background(), idx, origs[idx])
				if err != nil {
					t.Errorf("Get(%d): %v", idx, err)
					return
				}
				mu.Lock()
				if re {
					reenc[idx]++
				}
				if results[idx] == nil {
					results[idx] = make(map[*byte]bool)
				}
				results[idx][&data[0]] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for idx := range origs {
		want := 1
		if idx == len(origs)-1 {
			want = 0 // the carriable one
		}
		if reenc[idx] != want {
			t.Errorf("frame %d re-encoded %d times, want %d", idx, reenc[idx], want)
		}
		if len(results[idx]) != 1 {
			t.Errorf("frame %d: %d different slices handed out, want 1", idx, len(results[idx]))
		}
	}
}

// TestConformer: frames pass through in order with their indexes; carriable
// ones keep their bytes untouched (no copy), others get the conformed bytes
// copied into the frame (a pooled frame is reused later, so it must never
// alias the shared cache). Looped indexes map onto source frames modulo
// Frames, so each source frame is re-encoded once however often it plays.
// Unusable frames are dropped and reported.
func TestConformer(t *testing.T) {
	good0, good2 := svJPEG(t, 64, 48, 1, false), svJPEG(t, 32, 32, 2, false)
	bad := svJPEG(t, 60, 44, 3, false) // width not a multiple of 8
	src := [][]byte{good0, bad, good2, []byte("garbage")}
	cache := NewConformCache(75)

	var frames []*pipeline.Frame
	for i := range 2 * len(src) { // two loops over the source
		frames = append(frames, svFrame(i, src[i%len(src)]))
	}
	var reencoded []int
	var events pipelinetest.Events
	c := &Conformer{Cache: cache, Frames: len(src),
		OnReencode: func(i int) { reencoded = append(reencoded, i) },
	}
	got, err := svRun(t, events.Context(context.Background(), "conformer"), c, frames)
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	conformed, _, err := cache.Get(context.Background(), 1, bad)
	if err != nil {
		t.Fatal(err)
	}
	wantIdx := []int{0, 1, 2, 4, 5, 6}
	if len(got) != len(wantIdx) {
		t.Fatalf("%d frames out, want %d", len(got), len(wantIdx))
	}
	for k, fr := range got {
		if fr.Index != wantIdx[k] {
			t.Errorf("frame %d has Index %d, want %d", k, fr.Index, wantIdx[k])
		}
		switch fr.Index % len(src) {
		case 0, 2:
			if &fr.Data[0] != &src[fr.Index%len(src)][0] {
				t.Errorf("carriable frame %d was copied or changed", fr.Index)
			}
		case 1:
			if !bytes.Equal(fr.Data, conformed) {
				t.Errorf("frame %d does not carry the conformed bytes", fr.Index)
			}
			if &fr.Data[0] == &conformed[0] {
				t.Errorf("frame %d aliases the shared cache", fr.Index)
			}
		}
	}
	if len(reencoded) != 1 || reencoded[0] != 1 {
		t.Errorf("OnReencode calls %v, want [1]", reencoded)
	}
	if dropped := svDropped(t, &events, rtpjpeg.ErrMalformed); len(dropped) != 2 || dropped[0] != 3 || dropped[1] != 7 {
		t.Errorf("dropped frames %v, want [3 7]", dropped)
	}
}
