package rtpjpeg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/pion/rtp"
)

// ErrUnsupported is wrapped by Push errors for RFC 2435 payloads that are
// well formed but use a type or table layout this package does not rebuild.
var ErrUnsupported = errors.New("rtpjpeg: unsupported RFC 2435 payload")

// ErrBadPacket is wrapped by Push errors for payloads that are too short or
// internally inconsistent.
var ErrBadPacket = errors.New("rtpjpeg: malformed RFC 2435 packet")

// DepacketizerStats counts what a Depacketizer did since it was created.
type DepacketizerStats struct {
	Packets        uint64 // packets passed to Push
	FramesOut      uint64 // complete frames returned (RFC 2435 and whole-JPEG)
	WholeJPEG      uint64 // of FramesOut, whole-JPEG payloads returned as is
	FramesDropped  uint64 // frames discarded because a fragment was missing or bad
	InvalidPackets uint64 // packets rejected as malformed or unsupported
	LatePackets    uint64 // packets of an already finished frame, ignored
}

// Depacketizer reassembles RFC 2435 frames (RFC 2435 §4 and Appendices A/B).
// The zero value is ready to use. Its buffers grow to the largest frame seen
// and are then reused, so steady-state Push does not allocate. It is not safe
// for concurrent use.
type Depacketizer struct {
	stats DepacketizerStats

	scan []byte // entropy-coded data of the frame being assembled
	out  []byte // last rebuilt JFIF

	// Frame being assembled. broken frames keep being consumed (so that the
	// drop is counted once) but are never returned.
	active  bool
	broken  bool
	ts      uint32
	nextSeq uint16
	typ     uint8
	q       uint8
	width   uint8
	height  uint8
	dri     uint16
	tables  [2][64]byte

	// Last finished (returned or dropped) frame, to recognise its late
	// duplicates.
	finished bool
	lastTs   uint32

	// Tables seen in-band for Q 128..254, which RFC 2435 §4.2 allows a
	// sender to omit from later frames with the same Q.
	cached [127]struct {
		ok     bool
		tables [2][64]byte
	}
}

// Stats returns the counters.
func (d *Depacketizer) Stats() DepacketizerStats { return d.stats }

// Push takes RTP packets in sequence order (a jitter buffer upstream
// reorders). When pkt completes a frame (marker bit) it returns the rebuilt,
// complete JFIF image (SOI, DQT, SOF0, DHT, DRI when type >= 64, SOS, scan,
// EOI), valid until the next Push; otherwise nil. A frame with any missing or
// out-of-place fragment is dropped and counted, never returned; a packet
// loss is not an error, malformed or unsupported payloads are.
//
// A payload that is itself a whole JPEG (starting FF D8 FF, no RFC 2435
// header: what the original lab server sent, one frame per packet) is
// returned as is. RFC 2435 payloads cannot start that way: their first byte
// is the type-specific field, which is 0 in practice, and FF D8 FF as its
// fragment offset would be beyond any plausible frame.
func (d *Depacketizer) Push(h *rtp.Header, payload []byte) ([]byte, error) {
	d.stats.Packets++
	if len(payload) >= 3 && payload[0] == 0xFF && payload[1] == markerSOI && payload[2] == 0xFF {
		d.dropActive()
		d.stats.FramesOut++
		d.stats.WholeJPEG++
		return payload, nil
	}
	if len(payload) < mainHeaderLen {
		d.invalid()
		return nil, fmt.Errorf("%w: %d-byte payload", ErrBadPacket, len(payload))
	}
	off := int(binary.BigEndian.Uint32(payload) & 0xFFFFFF)
	typ, q, width, height := payload[4], payload[5], payload[6], payload[7]
	payload = payload[mainHeaderLen:]

	// A duplicate of a packet of the frame just finished must not start a
	// new, necessarily broken, frame. Requiring the same timestamp keeps a
	// sender restart (new random sequence numbers) from being ignored.
	if !d.active && d.finished && h.Timestamp == d.lastTs && int16(h.SequenceNumber-d.nextSeq) < 0 {
		d.stats.LatePackets++
		return nil, nil
	}
	// A timestamp change without a marker means the previous frame's last
	// packet was lost.
	if d.active && h.Timestamp != d.ts {
		d.dropActive()
	}
	if !d.active {
		d.active, d.broken, d.ts = true, false, h.Timestamp
		if off != 0 {
			d.broken = true // we missed the frame's start
		}
		d.typ, d.q, d.width, d.height = typ, q, width, height
		d.scan = d.scan[:0]
	} else if h.SequenceNumber != d.nextSeq || off != len(d.scan) ||
		typ != d.typ || q != d.q || width != d.width || height != d.height {
		// Lost, reordered or duplicated fragment: the scan has a hole.
		d.broken = true
	}
	d.nextSeq = h.SequenceNumber + 1

	if !d.broken {
		var err error
		if payload, err = d.parseHeaders(off, payload); err != nil {
			d.broken = true
			d.invalid()
			if h.Marker {
				d.dropActive()
			}
			return nil, err
		}
		d.scan = append(d.scan, payload...)
	}
	if !h.Marker {
		return nil, nil
	}
	if d.broken {
		d.dropActive()
		return nil, nil
	}
	d.finish()
	d.stats.FramesOut++
	d.out = d.buildJFIF(d.out[:0])
	return d.out, nil
}

func (d *Depacketizer) invalid() { d.stats.InvalidPackets++ }

// dropActive discards the frame being assembled, if any, and counts it.
func (d *Depacketizer) dropActive() {
	if d.active {
		d.finish()
		d.stats.FramesDropped++
	}
}

func (d *Depacketizer) finish() {
	d.active, d.finished, d.lastTs = false, true, d.ts
}

// parseHeaders consumes the restart and quantization headers that follow the
// main header and returns the scan data. Tables are resolved on the first
// packet (offset 0), the only one allowed to carry them.
func (d *Depacketizer) parseHeaders(off int, p []byte) ([]byte, error) {
	switch d.typ {
	case 0, 1, 64, 65:
	default:
		return nil, fmt.Errorf("%w: type %d", ErrUnsupported, d.typ)
	}
	if d.width == 0 || d.height == 0 {
		return nil, fmt.Errorf("%w: zero width or height", ErrBadPacket)
	}
	if d.typ >= 64 {
		if len(p) < restartHeaderLen {
			return nil, fmt.Errorf("%w: truncated restart header", ErrBadPacket)
		}
		d.dri = binary.BigEndian.Uint16(p)
		p = p[restartHeaderLen:]
		if d.dri == 0 {
			return nil, fmt.Errorf("%w: restart interval 0 with type %d", ErrBadPacket, d.typ)
		}
	}
	if off != 0 {
		return p, nil
	}
	switch q := d.q; {
	case q == 0 || (q >= 100 && q < 128):
		return nil, fmt.Errorf("%w: reserved Q %d", ErrUnsupported, q)
	case q < 100:
		d.tables = stdQTables[q-1]
		return p, nil
	}
	// Q 128..255: Quantization Table header.
	if len(p) < qtableHeaderLen {
		return nil, fmt.Errorf("%w: truncated quantization table header", ErrBadPacket)
	}
	precision := p[1]
	length := int(binary.BigEndian.Uint16(p[2:]))
	p = p[qtableHeaderLen:]
	if len(p) < length {
		return nil, fmt.Errorf("%w: quantization tables truncated (%d < %d)", ErrBadPacket, len(p), length)
	}
	switch {
	case length == 0:
		// Tables omitted: only legal for Q 128..254 once they were sent.
		if d.q == 255 || !d.cached[d.q-128].ok {
			return nil, fmt.Errorf("%w: Q %d without tables", ErrBadPacket, d.q)
		}
		d.tables = d.cached[d.q-128].tables
		return p, nil
	case precision != 0:
		return nil, fmt.Errorf("%w: 16-bit quantization tables", ErrUnsupported)
	case length == 128:
		copy(d.tables[0][:], p[:64])
		copy(d.tables[1][:], p[64:128])
	case length == 64:
		// One table, as VLC sends for greyscale-like streams: use it for
		// both components rather than reject the stream.
		copy(d.tables[0][:], p[:64])
		d.tables[1] = d.tables[0]
	default:
		return nil, fmt.Errorf("%w: quantization table length %d", ErrUnsupported, length)
	}
	if d.q < 255 {
		d.cached[d.q-128].ok = true
		d.cached[d.q-128].tables = d.tables
	}
	return p[length:], nil
}

// jfifSOS is the scan header every rebuilt frame uses: components 1, 2, 3
// with Huffman tables 0/0, 1/1, 1/1 and the full baseline spectrum.
var jfifSOS = []byte{0xFF, markerSOS, 0, 12, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0}

// jfifDHT is one DHT segment holding the four standard tables.
var jfifDHT = func() []byte {
	body := []byte{}
	for class := range 2 {
		for dest := range 2 {
			body = append(body, byte(class<<4|dest))
			body = append(body, stdHuffman[class][dest]...)
		}
	}
	seg := []byte{0xFF, markerDHT, byte((len(body) + 2) >> 8), byte(len(body) + 2)}
	return append(seg, body...)
}()

// buildJFIF appends the frame rebuilt from the RFC 2435 fields to b
// (RFC 2435 Appendix B, with both tables in one DQT segment).
func (d *Depacketizer) buildJFIF(b []byte) []byte {
	b = append(b, 0xFF, markerSOI)
	b = append(b, 0xFF, markerDQT, 0, 2+2*65, 0)
	b = append(b, d.tables[0][:]...)
	b = append(b, 1)
	b = append(b, d.tables[1][:]...)

	ysamp := byte(0x21) // type 0: 4:2:2
	if d.typ&63 == 1 {
		ysamp = 0x22 // type 1: 4:2:0
	}
	h, w := int(d.height)*8, int(d.width)*8
	b = append(b, 0xFF, markerSOF0, 0, 17, 8,
		byte(h>>8), byte(h), byte(w>>8), byte(w), 3,
		1, ysamp, 0,
		2, 0x11, 1,
		3, 0x11, 1)
	b = append(b, jfifDHT...)
	if d.typ >= 64 {
		b = append(b, 0xFF, markerDRI, 0, 4, byte(d.dri>>8), byte(d.dri))
	} else if ri := inferRestartInterval(d.scan, w, h, ysamp); ri > 0 {
		// Some senders (ffmpeg 5's RTP muxer) keep RSTn markers in the
		// scan but send type 0/1 without a restart header. Decoders need
		// the DRI to make sense of the markers: be liberal and infer it.
		b = append(b, 0xFF, markerDRI, 0, 4, byte(ri>>8), byte(ri))
	}
	b = append(b, jfifSOS...)
	b = append(b, d.scan...)
	if n := len(d.scan); n < 2 || d.scan[n-2] != 0xFF || d.scan[n-1] != markerEOI {
		b = append(b, 0xFF, markerEOI)
	}
	return b
}

// inferRestartInterval returns the restart interval implied by the RSTn
// markers in scan (0 when there are none): the MCUs of the image split
// into equal runs, the last one possibly shorter, which is how encoders
// place them.
func inferRestartInterval(scan []byte, w, h int, ysamp byte) int {
	markers := 0
	// 0xFF is rare in entropy-coded data (stuffed as FF 00 there):
	// IndexByte skips to each one, many bytes at a time, where a loop
	// over every byte of every frame cost a publisher's intake more than
	// all its other per-frame work.
	for i := 0; i+1 < len(scan); i++ {
		k := bytes.IndexByte(scan[i:len(scan)-1], 0xFF)
		if k < 0 {
			break
		}
		i += k
		if scan[i+1] >= 0xD0 && scan[i+1] <= 0xD7 {
			markers++
			i++
		}
	}
	if markers == 0 {
		return 0
	}
	mcuW, mcuH := 16, 8
	if ysamp == 0x22 {
		mcuH = 16
	}
	mcus := ((w + mcuW - 1) / mcuW) * ((h + mcuH - 1) / mcuH)
	ri := (mcus + markers) / (markers + 1) // ceil(mcus / (markers+1))
	if ri > 0xFFFF {
		return 0
	}
	return ri
}
