package pipelinetest

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"testing"

	"github.com/actorstream/actorstream/pipeline"
)

// Chunked cuts data into chunks whose sizes cycle through sizes (the last
// chunk may be shorter), as a reader returning that much per read would.
// Each chunk has its own copy of its bytes and the right Offset; the chunks
// are not pooled, so Release does nothing. With no sizes it returns a
// single chunk. It panics if a size is not positive.
func Chunked(data []byte, sizes ...int) []*pipeline.Chunk {
	if len(sizes) == 0 {
		sizes = []int{max(len(data), 1)}
	}
	for _, n := range sizes {
		if n <= 0 {
			panic(fmt.Sprintf("pipelinetest: Chunked with chunk size %d", n))
		}
	}
	var chunks []*pipeline.Chunk
	for off, i := 0, 0; off < len(data); i++ {
		n := min(sizes[i%len(sizes)], len(data)-off)
		chunks = append(chunks, &pipeline.Chunk{Data: bytes.Clone(data[off : off+n]), Offset: int64(off)})
		off += n
	}
	return chunks
}

// OddChunkSeed seeds the "random" chunking of [OddChunkings], so that a
// failure under it reproduces.
const OddChunkSeed = 2435

// OddChunkings returns data cut in several ways that a byte-stream stage
// must all handle alike, by name:
//
//	"whole"   one chunk
//	"1-byte"  one byte per chunk: every boundary falls everywhere
//	"7-byte"  seven bytes per chunk: boundaries drift across fields
//	"random"  sizes from 1 to 512, from a fixed seed ([OddChunkSeed])
//
// Every call returns fresh chunks. Range over the map with t.Run to test
// each chunking as a subtest.
func OddChunkings(data []byte) map[string][]*pipeline.Chunk {
	rng := rand.New(rand.NewPCG(OddChunkSeed, uint64(len(data))))
	var sizes []int
	for total := 0; total < len(data); {
		n := 1 + rng.IntN(512)
		sizes = append(sizes, n)
		total += n
	}
	return map[string][]*pipeline.Chunk{
		"whole":  Chunked(data),
		"1-byte": Chunked(data, 1),
		"7-byte": Chunked(data, 7),
		"random": Chunked(data, sizes...),
	}
}

// Join concatenates the data of chunks: the inverse of [Chunked].
func Join(chunks []*pipeline.Chunk) []byte {
	var b []byte
	for _, c := range chunks {
		b = append(b, c.Data...)
	}
	return b
}

// JPEG returns a baseline JPEG of w×h pixels whose picture depends on n:
// frames with different n differ in their bytes and visibly in their
// pixels (a diagonal gradient shifted by n and a bright square whose place
// moves with n). It fails the test if encoding fails.
func JPEG(t testing.TB, w, h, n int) []byte {
	t.Helper()
	if w <= 0 || h <= 0 {
		t.Fatalf("pipelinetest: JPEG of %d×%d pixels", w, h)
		return nil
	}
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	side := max(min(w, h)/4, 1)
	sx, sy := (n*side)%max(w-side+1, 1), (n*side/max(w-side+1, 1)*side)%max(h-side+1, 1)
	for y := range h {
		for x := range w {
			c := color.RGBA{R: uint8(x*4 + n*37), G: uint8(y*4 + n*59), B: uint8((x+y)*2 + n*83), A: 255}
			if x >= sx && x < sx+side && y >= sy && y < sy+side {
				c = color.RGBA{R: 255, G: 255, B: 255, A: 255}
			}
			m.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatalf("pipelinetest: encoding a test JPEG: %v", err)
		return nil
	}
	return b.Bytes()
}
