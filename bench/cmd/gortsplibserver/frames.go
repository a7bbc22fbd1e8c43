// Splitting a raw MJPEG file (concatenated JPEG images, as `ffmpeg -f mjpeg`
// writes) into its frames, once, before serving.

package main

import (
	"errors"
	"fmt"
	"os"
)

// JPEG markers the splitter needs to know (ITU T.81 table B.1).
const (
	markerTEM  = 0x01 // standalone, no length
	markerRST0 = 0xD0 // RST0..RST7: standalone, no length
	markerRST7 = 0xD7
	markerSOI  = 0xD8
	markerEOI  = 0xD9
	markerSOS  = 0xDA
)

// loadFrames reads the file at path into memory and returns its JPEG frames,
// SOI to EOI inclusive, as subslices of one buffer.
func loadFrames(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	frames, err := splitJPEGs(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(frames) == 0 {
		return nil, fmt.Errorf("%s: no JPEG frames", path)
	}
	return frames, nil
}

// splitJPEGs cuts data into JPEG images. It walks each image's marker
// segments by their lengths and, after each SOS header, skips the
// entropy-coded data, where 0xFF is followed by 0x00 (a stuffed byte) or by
// RST0-RST7; any other byte after 0xFF there is the next marker. Bytes
// between images (or trailing a truncated one) are ignored.
func splitJPEGs(data []byte) ([][]byte, error) {
	var frames [][]byte
	i := 0
	for {
		start := findSOI(data, i)
		if start < 0 {
			return frames, nil
		}
		end, err := jpegEnd(data, start+2)
		if err != nil {
			if errors.Is(err, errTruncated) && len(frames) > 0 {
				return frames, nil // a cut-off last frame: drop it
			}
			return nil, fmt.Errorf("frame %d at offset %d: %w", len(frames), start, err)
		}
		frames = append(frames, data[start:end])
		i = end
	}
}

var errTruncated = errors.New("truncated JPEG")

// findSOI returns the offset of the next FF D8 at or after i, or -1.
func findSOI(data []byte, i int) int {
	for ; i+1 < len(data); i++ {
		if data[i] == 0xFF && data[i+1] == markerSOI {
			return i
		}
	}
	return -1
}

// jpegEnd returns the offset just past the EOI of the image whose first
// marker after SOI is at i.
func jpegEnd(data []byte, i int) (int, error) {
	for {
		if i >= len(data) {
			return 0, errTruncated
		}
		if data[i] != 0xFF {
			return 0, fmt.Errorf("want a marker at offset %d, got 0x%02x", i, data[i])
		}
		// A marker may be preceded by any number of 0xFF fill bytes.
		for i < len(data) && data[i] == 0xFF {
			i++
		}
		if i >= len(data) {
			return 0, errTruncated
		}
		m := data[i]
		i++
		switch {
		case m == markerEOI:
			return i, nil
		case m == markerSOI || m == 0x00:
			return 0, fmt.Errorf("unexpected marker 0x%02x at offset %d", m, i-1)
		case m == markerTEM || (m >= markerRST0 && m <= markerRST7):
			continue // no length field
		}
		if i+2 > len(data) {
			return 0, errTruncated
		}
		n := int(data[i])<<8 | int(data[i+1])
		if n < 2 {
			return 0, fmt.Errorf("marker 0x%02x at offset %d: bad length %d", m, i-1, n)
		}
		i += n
		if m == markerSOS {
			if i = skipEntropy(data, i); i < 0 {
				return 0, errTruncated
			}
		}
	}
}

// skipEntropy returns the offset of the 0xFF that starts the first marker
// at or after i that is not a stuffed byte or a restart marker, or -1.
func skipEntropy(data []byte, i int) int {
	for ; i+1 < len(data); i++ {
		if data[i] != 0xFF {
			continue
		}
		b := data[i+1]
		if b == 0x00 || (b >= markerRST0 && b <= markerRST7) {
			i++ // skip the pair
			continue
		}
		if b == 0xFF {
			continue // fill byte: the marker starts at a later 0xFF
		}
		return i
	}
	return -1
}

const markerDQT = 0xDB

// withChromaTable returns frame with a second quantization table, a copy of
// table 0 as table 1, when its only table is table 0 (ffmpeg's MJPEG encoder
// writes one table when luma and chroma share it). gortsplib's RTP/JPEG
// encoder sends the tables a frame defines; with two the Quantization Table
// header carries 128 bytes, luma then chroma, which is what RFC 2435
// receivers expect for types 0 and 1 (ffmpeg 5.1 reports "Invalid qtable
// length 64" for one), and what our server and rtpjpegpay send. Table 1 is
// unused by the frame's own components, so the image itself is unchanged.
// Any other frame is returned as it is.
func withChromaTable(frame []byte) []byte {
	var table0 []byte
	tables, insertAt := 0, -1
	for i := 2; i+4 <= len(frame) && frame[i] == 0xFF; {
		m := frame[i+1]
		n := int(frame[i+2])<<8 | int(frame[i+3])
		end := i + 2 + n
		if n < 2 || end > len(frame) {
			return frame
		}
		if m == markerDQT {
			for seg := frame[i+4 : end]; len(seg) > 0; {
				pq, tq := seg[0]>>4, seg[0]&0x0F
				size := 64
				if pq != 0 {
					size = 128
				}
				if len(seg) < 1+size {
					return frame
				}
				if tables++; pq == 0 && tq == 0 {
					table0 = seg[1 : 1+size]
				}
				seg = seg[1+size:]
			}
			insertAt = end
		}
		if m == markerSOS {
			break
		}
		i = end
	}
	if tables != 1 || table0 == nil {
		return frame
	}
	out := make([]byte, 0, len(frame)+4+1+64)
	out = append(out, frame[:insertAt]...)
	out = append(out, 0xFF, markerDQT, 0, 2+1+64, 0x01)
	out = append(out, table0...)
	return append(out, frame[insertAt:]...)
}
