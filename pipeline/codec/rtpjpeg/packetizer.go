package rtpjpeg

import (
	"encoding/binary"
	"fmt"

	"github.com/pion/rtp"
)

// PayloadType is the static RTP payload type of JPEG (RFC 3551).
const PayloadType = 26

// ClockRate is the RTP clock rate of JPEG video (RFC 3551).
const ClockRate = 90000

// Header sizes of RFC 2435 §3.1.
const (
	rtpHeaderLen     = 12
	mainHeaderLen    = 8
	restartHeaderLen = 4
	qtableHeaderLen  = 4
	qtablesLen       = 128
)

// MinMTU is the smallest packet size NewPacketizer accepts: the first packet
// of a frame must hold all headers, both tables and at least one scan byte,
// or a frame could never make progress.
const MinMTU = rtpHeaderLen + mainHeaderLen + restartHeaderLen + qtableHeaderLen + qtablesLen + 1

// Packetizer splits JPEG frames into RFC 2435 RTP packets written into
// caller-owned buffers. It keeps only the sequence number between frames, so
// one Packetizer serves one RTP stream (one SSRC). It is not safe for
// concurrent use.
type Packetizer struct {
	// UseStandardQ sends Q 1..99 instead of in-band tables (Q=255) when the
	// frame's tables are exactly the RFC's tables for that Q (StandardQ),
	// saving 132 bytes per frame. Off by default because in-band tables are
	// what every receiver handles identically.
	UseStandardQ bool

	ssrc uint32
	seq  uint16
	mtu  int

	// Current frame; j is nil between frames.
	j      *JPEG
	ts     uint32
	q      uint8
	off    int
	inside bool // at least one packet of the frame was written
}

// NewPacketizer returns a packetizer for one stream. mtu is the maximum size
// of a whole RTP packet, header included (e.g. 1400); ssrc and firstSeq
// should be random (RFC 3550 §5.1) and are the caller's choice so that
// restarts and tests stay deterministic. It panics if mtu < MinMTU.
func NewPacketizer(ssrc uint32, firstSeq uint16, mtu int) *Packetizer {
	if mtu < MinMTU {
		panic(fmt.Sprintf("rtpjpeg: mtu %d < %d", mtu, MinMTU))
	}
	return &Packetizer{ssrc: ssrc, seq: firstSeq, mtu: mtu}
}

// SSRC returns the stream's synchronisation source.
func (p *Packetizer) SSRC() uint32 { return p.ssrc }

// NextSeq returns the sequence number the next packet will carry.
func (p *Packetizer) NextSeq() uint16 { return p.seq }

// MTU returns the maximum packet size given to NewPacketizer.
func (p *Packetizer) MTU() int { return p.mtu }

// Begin starts packetizing one frame; j must stay valid and unchanged until
// Next returns 0. A frame still in progress is abandoned (its remaining
// packets are never produced, which the receiver sees as a lost frame).
func (p *Packetizer) Begin(j *JPEG, timestamp uint32) {
	p.j, p.ts, p.off, p.inside = j, timestamp, 0, false
	p.q = p.frameQ(j)
}

func (p *Packetizer) frameQ(j *JPEG) uint8 {
	if p.UseStandardQ {
		if q, ok := StandardQ(j); ok {
			return q
		}
	}
	return 255
}

// overhead returns the bytes before scan data in a packet of frame j.
func overhead(j *JPEG, q uint8, first bool) int {
	n := rtpHeaderLen + mainHeaderLen
	if j.Type >= 64 {
		n += restartHeaderLen
	}
	if first && q >= 128 {
		n += qtableHeaderLen + qtablesLen
	}
	return n
}

// PacketCount returns how many packets Begin(j)/Next will produce for j with
// this packetizer's MTU and options, e.g. to size a batch of buffers.
func (p *Packetizer) PacketCount(j *JPEG) int {
	q := p.frameQ(j)
	rest := len(j.Scan) - (p.mtu - overhead(j, q, true))
	if rest <= 0 {
		return 1
	}
	per := p.mtu - overhead(j, q, false)
	return 1 + (rest+per-1)/per
}

// Next writes the frame's next packet into buf and returns its length, or 0
// when the frame is complete (or no frame was begun). len(buf) must be at
// least the MTU; Next panics otherwise, since a short buffer is a programming
// error that would otherwise silently change the packetization.
func (p *Packetizer) Next(buf []byte) int {
	j := p.j
	if j == nil {
		return 0
	}
	if p.inside && p.off >= len(j.Scan) {
		p.j = nil // don't keep the caller's frame alive past its end
		return 0
	}
	if len(buf) < p.mtu {
		panic(fmt.Sprintf("rtpjpeg: buffer of %d bytes < mtu %d", len(buf), p.mtu))
	}
	buf = buf[:p.mtu]
	first := p.off == 0
	n := min(len(j.Scan)-p.off, p.mtu-overhead(j, p.q, first))
	last := p.off+n == len(j.Scan)

	h := rtp.Header{
		Version:        2,
		Marker:         last,
		PayloadType:    PayloadType,
		SequenceNumber: p.seq,
		Timestamp:      p.ts,
		SSRC:           p.ssrc,
	}
	w, err := h.MarshalTo(buf)
	if err != nil {
		panic(err) // unreachable: buf holds at least MinMTU bytes
	}

	// Main JPEG header (RFC 2435 §3.1): type-specific, fragment offset,
	// type, Q, width/8, height/8.
	binary.BigEndian.PutUint32(buf[w:], uint32(p.off)) // type-specific 0 + 24-bit offset
	buf[w+4] = j.Type
	buf[w+5] = p.q
	buf[w+6] = byte(j.Width / 8)
	buf[w+7] = byte(j.Height / 8)
	w += mainHeaderLen

	if j.Type >= 64 {
		// Restart marker header (§3.1.7) in every packet. F=L=1 and count
		// 0x3FFF say "this packet is not aligned on restart intervals", which
		// is true since fragments are cut by size only.
		binary.BigEndian.PutUint16(buf[w:], j.RestartInterval)
		buf[w+2], buf[w+3] = 0xFF, 0xFF
		w += restartHeaderLen
	}
	if first && p.q >= 128 {
		// Quantization table header (§3.1.8): MBZ, precision 0 (8-bit),
		// length 128. Always both tables: ffmpeg rejects a 64-byte header.
		buf[w], buf[w+1], buf[w+2], buf[w+3] = 0, 0, 0, qtablesLen
		w += qtableHeaderLen
		w += copy(buf[w:], j.QTables[0][:])
		w += copy(buf[w:], j.QTables[1][:])
	}
	w += copy(buf[w:], j.Scan[p.off:p.off+n])

	p.off += n
	p.seq++
	p.inside = true
	return w
}

// Restamp makes pkt, an RTP packet written by any Packetizer with this
// one's MTU, the next packet of this stream: it writes this Packetizer's
// SSRC and next sequence number and the given timestamp into the header,
// keeping the marker bit and the payload. The RFC 2435 payload of a frame
// is the same for every receiver, so sessions playing one file can share
// one packetization and differ only in these 12 bytes.
func (p *Packetizer) Restamp(pkt []byte, timestamp uint32) {
	binary.BigEndian.PutUint16(pkt[2:], p.seq)
	binary.BigEndian.PutUint32(pkt[4:], timestamp)
	binary.BigEndian.PutUint32(pkt[8:], p.ssrc)
	p.seq++
}

// Header writes into dst (at least 12 bytes) the RTP header of this
// stream's next packet: version 2, payload type 26, the marker bit when
// the packet ends its frame, this Packetizer's SSRC and next sequence
// number, and the given timestamp. It is Restamp for a payload that came
// without an RTP header of ours: a live stream's payloads, as its
// publisher packetized them, forwarded to each viewer unchanged.
func (p *Packetizer) Header(dst []byte, timestamp uint32, marker bool) {
	dst[0] = 2 << 6
	dst[1] = PayloadType
	if marker {
		dst[1] |= 0x80
	}
	binary.BigEndian.PutUint16(dst[2:], p.seq)
	binary.BigEndian.PutUint32(dst[4:], timestamp)
	binary.BigEndian.PutUint32(dst[8:], p.ssrc)
	p.seq++
}
