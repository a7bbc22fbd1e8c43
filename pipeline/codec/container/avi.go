package container

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// An AVI file is a RIFF tree (Microsoft's AVI RIFF reference; OpenDML 1.02
// for files over 1 GiB): RIFF 'AVI ' holds LIST 'hdrl' (the main header
// 'avih' and, per stream, LIST 'strl' with 'strh' and 'strf'), LIST 'movi'
// (the frames, as chunks '00dc' for stream 0's compressed video, perhaps
// grouped in LIST 'rec ') and an optional 'idx1'. OpenDML continues the
// movi in further RIFF 'AVIX' lists.
//
// The reader walks the movi chunks rather than trusting idx1: that is the
// same one pass over chunk headers, it works for recordings cut off before
// idx1 was written, and it covers OpenDML's AVIX parts without reading
// their 'ix##' indexes.

// chunk is one RIFF chunk header: its FourCC, where its data starts and
// how long the data is (for a LIST or RIFF, the list type comes first).
type chunk struct {
	id   string
	data int64
	size int64
}

// aviReader walks one AVI file.
type aviReader struct {
	r    io.ReaderAt
	size int64
	v    *Video

	stream     int    // index of the video stream among the strl lists, -1 until found
	strls      int    // strl lists seen
	handler    string // strh fccHandler of the video stream
	compress   string // strf biCompression of the video stream
	usPerFrame uint32
	frameIDs   [2]string // "NNdc", "NNdb"
}

func openAVI(r io.ReaderAt, size int64) (*Video, error) {
	a := &aviReader{r: r, size: size, v: &Video{Kind: AVI}, stream: -1}
	for off := int64(0); off+12 <= size; {
		c, err := a.header(off, size)
		if err != nil {
			a.v.Damage = err
			break
		}
		if c.id != "RIFF" {
			break // trailing bytes after the RIFF lists: ignore
		}
		kind := a.fourCC(c.data)
		if kind != "AVI " && kind != "AVIX" {
			break
		}
		if err := a.list(c.data+4, c.data+c.size); err != nil {
			return nil, err
		}
		if a.v.Damage != nil {
			break
		}
		off = c.data + pad(c.size)
	}
	if a.stream < 0 {
		return nil, &CodecError{Kind: AVI}
	}
	return a.v, nil
}

// header reads the chunk header at off inside a list ending at end. A
// RIFF or LIST whose size runs past the file (a recording never
// finished: its writer had not patched the sizes yet) is taken to end
// with the file.
func (a *aviReader) header(off, end int64) (chunk, error) {
	var b [8]byte
	if _, err := a.r.ReadAt(b[:], off); err != nil {
		return chunk{}, fmt.Errorf("AVI chunk header at byte offset %d: %w", off, err)
	}
	c := chunk{id: string(b[:4]), data: off + 8, size: int64(binary.LittleEndian.Uint32(b[4:]))}
	if c.data+c.size > end {
		if (c.id == "RIFF" || c.id == "LIST") && end == a.size {
			c.size = end - c.data
		} else {
			return c, fmt.Errorf("AVI chunk %q at byte offset %d: truncated (%d bytes claimed, %d left)",
				c.id, off, c.size, end-c.data)
		}
	}
	return c, nil
}

// list walks the chunks between off and end.
func (a *aviReader) list(off, end int64) error {
	for off+8 <= end {
		c, err := a.header(off, end)
		if err != nil {
			a.v.Damage = err
			return nil
		}
		switch {
		case c.id == "LIST" && c.size >= 4:
			switch a.fourCC(c.data) {
			case "hdrl", "movi", "rec ":
				if err := a.list(c.data+4, c.data+c.size); err != nil || a.v.Damage != nil {
					return err
				}
			case "strl":
				if err := a.strl(c.data+4, c.data+c.size); err != nil {
					return err
				}
			}
		case c.id == "avih" && c.size >= 4:
			var b [4]byte
			if _, err := a.r.ReadAt(b[:], c.data); err == nil {
				a.usPerFrame = binary.LittleEndian.Uint32(b[:])
			}
		case a.stream >= 0 && (c.id == a.frameIDs[0] || c.id == a.frameIDs[1]):
			a.frame(c)
		}
		off = c.data + pad(c.size)
	}
	return nil
}

// strl reads one stream's header list: the first video stream is ours.
func (a *aviReader) strl(off, end int64) error {
	n := a.strls
	a.strls++
	var video bool
	var rate Rate
	for off+8 <= end {
		c, err := a.header(off, end)
		if err != nil {
			return fmt.Errorf("AVI stream header: %w", err)
		}
		var b [40]byte
		m := min(c.size, int64(len(b)))
		if _, err := a.r.ReadAt(b[:m], c.data); err != nil {
			return fmt.Errorf("AVI stream header: %w", err)
		}
		switch {
		case c.id == "strh" && m >= 32:
			video = string(b[0:4]) == "vids"
			if video && a.stream < 0 {
				a.handler = string(b[4:8])
				rate = Rate{Num: binary.LittleEndian.Uint32(b[24:28]), Den: binary.LittleEndian.Uint32(b[20:24])}
			}
		case c.id == "strf" && m >= 20 && video && a.stream < 0:
			a.compress = string(b[16:20])
		}
		off = c.data + pad(c.size)
	}
	if !video || a.stream >= 0 {
		return nil
	}
	codec := a.compress
	if codec == "" || codec == "\x00\x00\x00\x00" {
		codec = a.handler
	}
	a.v.Codec = strings.TrimRight(codec, "\x00 ")
	if !isMJPEGFourCC(codec) {
		return &CodecError{Kind: AVI, Codec: fourCCName(codec)}
	}
	a.stream = n
	a.frameIDs = [2]string{fmt.Sprintf("%02ddc", n), fmt.Sprintf("%02ddb", n)}
	switch {
	case rate.Num > 0 && rate.Den > 0:
		a.v.Rate = rate.reduced()
	case a.usPerFrame > 0:
		a.v.Rate = Rate{Num: 1000000, Den: a.usPerFrame}.reduced()
	}
	return nil
}

// frame records a video chunk; an empty one repeats the previous frame
// (writers use it to keep the rate when a frame is dropped).
func (a *aviReader) frame(c chunk) {
	switch {
	case c.size > maxFrame:
		a.v.Damage = fmt.Errorf("AVI frame at byte offset %d: %d bytes", c.data-8, c.size)
	case c.size > 0:
		a.v.add(c.data, int(c.size))
	case a.v.Len() > 0:
		a.v.add(a.v.Offsets[a.v.Len()-1], a.v.Sizes[a.v.Len()-1])
	}
}

func (a *aviReader) fourCC(off int64) string {
	var b [4]byte
	if _, err := a.r.ReadAt(b[:], off); err != nil {
		return ""
	}
	return string(b[:])
}

// pad rounds a chunk size up to RIFF's 2-byte alignment.
func pad(n int64) int64 { return n + n&1 }

// isMJPEGFourCC reports whether an AVI codec FourCC is Motion-JPEG.
func isMJPEGFourCC(cc string) bool {
	switch strings.ToUpper(cc) {
	case "MJPG", "AVRN", "DMB1", "JPEG", "JPGL", "LJPG", "AVDJ", "MJLS":
		return true
	}
	return false
}

// fourCCName names the codec behind a FourCC the way people know it.
func fourCCName(cc string) string {
	cc = strings.TrimRight(cc, "\x00 ")
	switch strings.ToUpper(cc) {
	case "H264", "X264", "AVC1", "DAVC":
		return "H.264"
	case "HEVC", "H265", "X265", "HVC1":
		return "H.265"
	case "XVID", "DIVX", "DX50", "FMP4", "MP4V":
		return "MPEG-4 Part 2"
	case "":
		return "unknown"
	}
	return "'" + cc + "'"
}
