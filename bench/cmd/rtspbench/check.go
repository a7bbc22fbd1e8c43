package main

import (
	"encoding/binary"
	"sync"
	"time"
)

// streamCheck follows one received RTP/JPEG stream: sequence gaps, frames
// whose fragments do not join up from offset 0 to the marker (incomplete),
// and when each complete frame arrived, for lateness against its RTP
// timestamp. Only packets that arrive while the window is open count, so
// the connection ramp and the teardown do not.
type streamCheck struct {
	mu sync.Mutex

	window bool // counting?

	// sequence numbers, extended to 64 bits (RFC 3550 A.1)
	seqStarted bool
	lastSeq    uint16
	extSeq     int64
	firstInWin int64
	maxInWin   int64
	winStarted bool
	received   int64
	bytes      int64

	// the frame being assembled
	frameActive bool
	frameTS     uint32
	nextOffset  int
	frameOK     bool
	frames      int64
	incomplete  int64

	// timestamps, extended, and arrival times of complete frames
	tsStarted bool
	lastTS    uint32
	extTS     int64
	arrivals  []arrival

	firstFrame time.Time // first complete frame ever (time to first frame)

	// Live mode with the bench's own publisher: ids names the frames of
	// its loop by the hash of their scan data (the servers restamp the RTP
	// header but carry the JPEG data unchanged, whatever their
	// fragmentation); sourced is every complete frame in the window that
	// was found in it, unknown counts those that were not.
	ids     map[uint64]int
	hash    uint64 // FNV-1a of the frame's scan data so far
	sourced []frameArrival
	unknown int64
}

type arrival struct {
	rtpTime int64
	at      time.Time
}

func (c *streamCheck) open() {
	c.mu.Lock()
	c.window = true
	c.mu.Unlock()
}

func (c *streamCheck) close() {
	c.mu.Lock()
	c.window = false
	c.mu.Unlock()
}

// packet takes one datagram (an RTP packet) that arrived at at.
func (c *streamCheck) packet(b []byte, at time.Time) {
	if len(b) < 12 || b[0]>>6 != 2 {
		return // not RTP (RTCP goes to the other port; TCP channel 1 is filtered)
	}
	hlen := 12 + 4*int(b[0]&0x0f)
	if b[0]&0x10 != 0 { // header extension
		if len(b) < hlen+4 {
			return
		}
		hlen += 4 + 4*int(binary.BigEndian.Uint16(b[hlen+2:]))
	}
	if len(b) < hlen+8 {
		return
	}
	marker := b[1]&0x80 != 0
	seq := binary.BigEndian.Uint16(b[2:])
	ts := binary.BigEndian.Uint32(b[4:])
	payload := b[hlen:]

	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.seqStarted {
		c.seqStarted, c.lastSeq, c.extSeq = true, seq, int64(seq)
	} else {
		c.extSeq += int64(int16(seq - c.lastSeq))
		c.lastSeq = seq
	}
	if !c.tsStarted {
		c.tsStarted, c.lastTS, c.extTS = true, ts, int64(ts)
	} else {
		c.extTS += int64(int32(ts - c.lastTS))
		c.lastTS = ts
	}
	if c.window {
		if !c.winStarted {
			c.winStarted, c.firstInWin, c.maxInWin = true, c.extSeq, c.extSeq
		}
		c.maxInWin = max(c.maxInWin, c.extSeq)
		c.received++
		c.bytes += int64(len(b))
	}

	offset, data, ok := jpegFragment(payload)
	if !ok {
		return
	}
	if !c.frameActive || ts != c.frameTS {
		if c.frameActive && c.window {
			c.incomplete++ // the previous frame never saw its marker
		}
		c.frameActive, c.frameTS, c.nextOffset, c.frameOK = true, ts, 0, true
		c.hash = fnvOffset
	}
	if offset != c.nextOffset {
		c.frameOK = false
	}
	c.nextOffset = offset + len(data)
	if c.ids != nil {
		c.hash = fnvAdd(c.hash, data)
	}
	if !marker {
		return
	}
	c.frameActive = false
	if !c.frameOK {
		if c.window {
			c.incomplete++
		}
		return
	}
	if c.firstFrame.IsZero() {
		c.firstFrame = at
	}
	if c.window {
		c.frames++
		c.arrivals = append(c.arrivals, arrival{c.extTS, at})
		if c.ids != nil {
			if i, ok := c.ids[c.hash]; ok {
				c.sourced = append(c.sourced, frameArrival{i, at})
			} else {
				c.unknown++
			}
		}
	}
}

// jpegFragment splits an RFC 2435 payload (§3.1): the fragment offset
// from the 8-byte main header, and the scan data after the restart header
// (types 64–127) and the quantisation tables (offset 0 with Q ≥ 128).
func jpegFragment(payload []byte) (offset int, data []byte, ok bool) {
	if len(payload) < 8 {
		return 0, nil, false
	}
	offset = int(payload[1])<<16 | int(payload[2])<<8 | int(payload[3])
	typ, q := payload[4], payload[5]
	data = payload[8:]
	if typ >= 64 && typ < 128 {
		if len(data) < 4 {
			return 0, nil, false
		}
		data = data[4:]
	}
	if q >= 128 && offset == 0 {
		if len(data) < 4 {
			return 0, nil, false
		}
		n := int(binary.BigEndian.Uint16(data[2:]))
		if len(data) < 4+n {
			return 0, nil, false
		}
		data = data[4+n:]
	}
	return offset, data, true
}

// result is what one stream's check found in the window.
type streamResult struct {
	received, lost, bytes int64
	frames, incomplete    int64
	lateness              []time.Duration // per complete frame
	firstFrame            time.Duration   // PLAY sent → first complete frame; 0 if none
	sourced               []frameArrival  // live mode: complete frames identified
	unknown               int64           // live mode: complete frames not identified
}

// result reads the counts. Lateness is each frame's arrival against its
// RTP timestamp, measured from the earliest frame: a perfectly paced
// stream has every frame at lateness 0, whatever the constant network and
// scheduling delay.
func (c *streamCheck) result(playAt time.Time) streamResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := streamResult{received: c.received, bytes: c.bytes, frames: c.frames, incomplete: c.incomplete,
		sourced: c.sourced, unknown: c.unknown}
	if c.winStarted {
		r.lost = max(0, c.maxInWin-c.firstInWin+1-c.received)
	}
	if !c.firstFrame.IsZero() && !playAt.IsZero() {
		r.firstFrame = c.firstFrame.Sub(playAt)
	}
	if len(c.arrivals) == 0 {
		return r
	}
	rtp0 := c.arrivals[0].rtpTime
	base := time.Duration(1<<63 - 1)
	offsets := make([]time.Duration, len(c.arrivals))
	for i, a := range c.arrivals {
		rel := time.Duration((a.rtpTime - rtp0) * int64(time.Second) / 90000)
		offsets[i] = a.at.Sub(c.arrivals[0].at) - rel
		base = min(base, offsets[i])
	}
	for i := range offsets {
		offsets[i] -= base
	}
	r.lateness = offsets
	return r
}
