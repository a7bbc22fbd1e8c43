package main

import (
	"sync"
	"time"
)

// Added latency in live mode: how long the server under test holds a
// frame between the publisher's send and a reader's receive. The bench's
// own publisher sends the loop's frame n at start + n/fps and notes, for
// every frame it sends, when it handed the frame's last packet (the one
// with the marker bit) to the kernel. A reader's check names each
// complete frame it receives by the hash of its JPEG scan data (a server
// restamps SSRC, sequence and timestamp, and may fragment differently,
// but forwards the data as it came) and notes when its last packet
// arrived. Added latency is that arrival minus that send: last packet to
// last packet, since no server can forward a frame before its last
// packet is in. Publisher and readers are one process, on one clock.

// FNV-1a, 64 bits (the constants of hash/fnv), written out so that a
// check hashes a fragment with no interface call or allocation.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvAdd(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

// frameHash is the hash a check computes for a whole frame, from its RFC
// 2435 packets in order (RTP header included).
func frameHash(pkts [][]byte) (uint64, bool) {
	h := uint64(fnvOffset)
	for _, p := range pkts {
		if len(p) < 12 {
			return 0, false
		}
		_, data, ok := jpegFragment(p[12:]) // the packetizer writes plain 12-byte headers
		if !ok {
			return 0, false
		}
		h = fnvAdd(h, data)
	}
	return h, true
}

// frameIDs names every frame of the loop by its hash. Frames whose scan
// data is the same as another's cannot be told apart at the reader: they
// are left out (their arrivals count as unknown).
func frameIDs(frames [][][]byte) map[uint64]int {
	ids := make(map[uint64]int, len(frames))
	dup := map[uint64]bool{}
	for i, pkts := range frames {
		h, ok := frameHash(pkts)
		if !ok {
			continue
		}
		if _, seen := ids[h]; seen {
			dup[h] = true
		}
		ids[h] = i
	}
	for h := range dup {
		delete(ids, h)
	}
	return ids
}

// frameArrival is a complete frame a reader received: which frame of the
// publisher's loop, and when its last packet arrived.
type frameArrival struct {
	frame int
	at    time.Time
}

// frameClock is the publisher's log, shared with the steps: the loop's
// frame IDs, and when the last packet of each frame sent so far left
// (by absolute frame number: loop frame n % loop).
type frameClock struct {
	ids  map[uint64]int
	loop int

	mu   sync.Mutex
	sent []time.Time
}

func newFrameClock(frames [][][]byte) *frameClock {
	return &frameClock{ids: frameIDs(frames), loop: len(frames)}
}

// sentFrame notes that absolute frame n's last packet is being sent at t.
// Frames are sent in order; one that was skipped stays zero.
func (fc *frameClock) sentFrame(n int, t time.Time) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	for len(fc.sent) < n {
		fc.sent = append(fc.sent, time.Time{})
	}
	fc.sent = append(fc.sent[:n], t)
}

// latencies matches each arrival with the latest send of the same loop
// frame at or before it. The loop is 10 s long, so only a frame held
// longer than that could be matched with the wrong pass. Arrivals with no
// such send (none logged) are left out.
func (fc *frameClock) latencies(arrivals []frameArrival) []time.Duration {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	out := make([]time.Duration, 0, len(arrivals))
	if fc.loop == 0 {
		return out
	}
	for _, a := range arrivals {
		if a.frame < 0 || a.frame >= fc.loop {
			continue
		}
		last := len(fc.sent) - 1
		n := last - ((last-a.frame)%fc.loop+fc.loop)%fc.loop // the last n ≡ frame (mod loop)
		for ; n >= 0; n -= fc.loop {
			if t := fc.sent[n]; !t.IsZero() && !t.After(a.at) {
				out = append(out, a.at.Sub(t))
				break
			}
		}
	}
	return out
}
