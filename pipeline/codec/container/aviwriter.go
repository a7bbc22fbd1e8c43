package container

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// AVIWriter writes Motion-JPEG frames as an AVI file (one video stream,
// 'MJPG', with an idx1 index), which keeps the recording's frame rate and
// which ffmpeg, VLC, browsers' players and our server read. The headers are
// written first with room for what is only known at the end (the rate, the
// frame count, the sizes) and patched by Close, so W must be seekable.
//
// A plain AVI's sizes are 32-bit: a recording stops with ErrAVIFull just
// before 4 GiB. A recording that is never closed (the recorder killed)
// still has its frames, which our reader and ffmpeg find by walking the
// chunks.
type AVIWriter struct {
	w             io.WriteSeeker
	pos           int64 // bytes written
	frames        int   // chunks written, repeats included
	width, height int
	maxFrame      int
	index         []byte // idx1 entries, 16 bytes a chunk
	err           error
}

// ErrAVIFull means the AVI file has reached the 4 GiB a plain AVI can hold.
var ErrAVIFull = errors.New("AVI file full (4 GiB): record in raw format for longer recordings")

// The fixed header's layout: RIFF 'AVI ' { LIST 'hdrl' { avih, LIST 'strl'
// { strh, strf } }, LIST 'movi' { frames }, idx1 }.
const (
	aviHdrlAt   = 12
	aviAvihAt   = 24  // the avih chunk header
	aviStrhAt   = 100 // the strh chunk header
	aviStrfAt   = 164 // the strf chunk header
	aviMoviAt   = 212 // the LIST 'movi' header
	aviHeaderSz = 224 // where the first frame chunk starts
	aviMaxSize  = 1<<32 - 1<<20
)

// NewAVIWriter starts an AVI file at w's current position 0.
func NewAVIWriter(w io.WriteSeeker) (*AVIWriter, error) {
	return NewAVIWriterRate(w, Rate{25, 1})
}

// NewAVIWriterRate is NewAVIWriter for a recording whose rate is expected
// to be rate: the file states it until Close writes the final one, so a
// file read while it is being written (a live path's recording) plays at
// it.
func NewAVIWriterRate(w io.WriteSeeker, rate Rate) (*AVIWriter, error) {
	if rate.FPS() <= 0 {
		rate = Rate{25, 1}
	}
	a := &AVIWriter{w: w}
	// Sizes that run to the end of the file until Close knows them: a
	// recording that is never closed stays readable.
	if err := a.header(rate, 0xFFFFFFFF, 0xFFFFFFFF); err != nil {
		return nil, err
	}
	a.pos = aviHeaderSz
	return a, nil
}

// Frames is the number of frames written so far, repeats included.
func (a *AVIWriter) Frames() int { return a.frames }

// WriteFrame appends one JPEG as the next frame. The first frame's size
// is the video's.
func (a *AVIWriter) WriteFrame(jpeg []byte) error {
	if a.err != nil {
		return a.err
	}
	if a.frames == 0 || a.width == 0 {
		a.width, a.height = jpegSize(jpeg)
	}
	return a.chunk(jpeg)
}

// Repeat appends an empty chunk: players show the previous frame again
// for one frame's time (how AVI keeps the rate when a frame is missing).
func (a *AVIWriter) Repeat() error {
	if a.err != nil {
		return a.err
	}
	return a.chunk(nil)
}

func (a *AVIWriter) chunk(data []byte) error {
	n := len(data)
	if a.pos+8+int64(n)+1+int64(len(a.index))+16+24 > aviMaxSize {
		a.err = ErrAVIFull
		return a.err
	}
	var h [8]byte
	copy(h[:], "00dc")
	binary.LittleEndian.PutUint32(h[4:], uint32(n))
	if err := a.write(h[:]); err != nil {
		return err
	}
	if err := a.write(data); err != nil {
		return err
	}
	if n&1 == 1 {
		if err := a.write([]byte{0}); err != nil {
			return err
		}
	}
	var e [16]byte
	copy(e[:], "00dc")
	binary.LittleEndian.PutUint32(e[4:], 0x10) // AVIIF_KEYFRAME: every JPEG is one
	binary.LittleEndian.PutUint32(e[8:], uint32(a.pos-int64(8+n+n&1)-(aviMoviAt+8)))
	binary.LittleEndian.PutUint32(e[12:], uint32(n))
	a.index = append(a.index, e[:]...)
	a.frames++
	a.maxFrame = max(a.maxFrame, n)
	return nil
}

func (a *AVIWriter) write(b []byte) error {
	n, err := a.w.Write(b)
	a.pos += int64(n)
	if err != nil {
		a.err = err
	}
	return err
}

// Close writes the index and the final headers, with the given frame
// rate, and leaves w positioned at the end of the file. It does not close
// w.
func (a *AVIWriter) Close(rate Rate) error {
	if a.err != nil && !errors.Is(a.err, ErrAVIFull) {
		return a.err
	}
	if rate.FPS() <= 0 {
		rate = Rate{25, 1}
	}
	moviEnd := a.pos
	var h [8]byte
	copy(h[:], "idx1")
	binary.LittleEndian.PutUint32(h[4:], uint32(len(a.index)))
	a.err = nil
	if err := a.write(h[:]); err != nil {
		return err
	}
	if err := a.write(a.index); err != nil {
		return err
	}
	end := a.pos
	if err := a.header(rate, uint32(end-8), uint32(moviEnd-(aviMoviAt+8))); err != nil {
		return err
	}
	_, err := a.w.Seek(end, io.SeekStart)
	return err
}

// header writes the fixed header at the start of the file, with the
// sizes of the RIFF list and of the movi list.
func (a *AVIWriter) header(rate Rate, riffSize, moviSize uint32) error {
	b := make([]byte, aviHeaderSz)
	le := binary.LittleEndian
	put := func(at int, s string, v uint32) { copy(b[at:], s); le.PutUint32(b[at+4:], v) }
	put(0, "RIFF", riffSize)
	copy(b[8:], "AVI ")
	put(aviHdrlAt, "LIST", aviMoviAt-aviHdrlAt-8)
	copy(b[aviHdrlAt+8:], "hdrl")
	put(aviAvihAt, "avih", 56)
	avih := b[aviAvihAt+8:]
	le.PutUint32(avih[0:], uint32(uint64(rate.Den)*1000000/uint64(rate.Num))) // µs a frame
	le.PutUint32(avih[12:], 0x10)                                             // AVIF_HASINDEX
	le.PutUint32(avih[16:], uint32(a.frames))
	le.PutUint32(avih[24:], 1) // streams
	le.PutUint32(avih[28:], uint32(a.maxFrame+8))
	le.PutUint32(avih[32:], uint32(a.width))
	le.PutUint32(avih[36:], uint32(a.height))
	put(aviStrhAt-12, "LIST", aviMoviAt-(aviStrhAt-12)-8)
	copy(b[aviStrhAt-4:], "strl")
	put(aviStrhAt, "strh", 56)
	strh := b[aviStrhAt+8:]
	copy(strh[0:], "vidsMJPG")
	le.PutUint32(strh[20:], rate.Den)
	le.PutUint32(strh[24:], rate.Num)
	le.PutUint32(strh[32:], uint32(a.frames)) // dwLength
	le.PutUint32(strh[36:], uint32(a.maxFrame+8))
	le.PutUint32(strh[40:], 0xFFFFFFFF) // dwQuality: default
	le.PutUint16(strh[52:], uint16(a.width))
	le.PutUint16(strh[54:], uint16(a.height))
	put(aviStrfAt, "strf", 40)
	strf := b[aviStrfAt+8:]
	le.PutUint32(strf[0:], 40)
	le.PutUint32(strf[4:], uint32(a.width))
	le.PutUint32(strf[8:], uint32(a.height))
	le.PutUint16(strf[12:], 1)  // planes
	le.PutUint16(strf[14:], 24) // bits a pixel
	copy(strf[16:], "MJPG")
	le.PutUint32(strf[20:], uint32(a.width*a.height*3))
	put(aviMoviAt, "LIST", moviSize)
	copy(b[aviMoviAt+8:], "movi")
	if _, err := a.w.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("AVI: %w", err)
	}
	if _, err := a.w.Write(b); err != nil {
		return err
	}
	return nil
}

// jpegSize reads a JPEG's width and height from its frame header (SOFn);
// 0, 0 when it has none.
func jpegSize(b []byte) (width, height int) {
	for i := 2; i+9 < len(b); {
		if b[i] != 0xFF {
			return 0, 0
		}
		m := b[i+1]
		if m == 0xFF || m == 0x01 || (m >= 0xD0 && m <= 0xD7) {
			i++
			continue
		}
		n := int(b[i+2])<<8 | int(b[i+3])
		if m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC {
			return int(b[i+7])<<8 | int(b[i+8]), int(b[i+5])<<8 | int(b[i+6])
		}
		if m == 0xDA {
			return 0, 0
		}
		i += 2 + n
	}
	return 0, 0
}
