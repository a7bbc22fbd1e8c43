package pipeline_test

import (
	"bytes"
	"testing"

	"github.com/actorstream/actorstream/pipeline"
)

// fill writes a pattern unique to packet i so that a packet overwritten by
// another (or left behind by a growth) is detected.
func fill(p []byte, i int) {
	for k := range p {
		p[k] = byte(i*31 + k)
	}
}

// TestBatchSlotCommit writes packets through Slot/Commit the way the
// packetizers do (a Slot of the MTU, a Commit of what was written) and
// checks every packet afterwards, in particular across growths of the
// backing store, which must carry the earlier packets along.
func TestBatchSlotCommit(t *testing.T) {
	tests := []struct {
		name  string
		slot  int
		sizes []int // committed size of each packet
	}{
		{"single packet", 100, []int{60}},
		{"full slots", 64, []int{64, 64, 64, 64, 64}},
		{"short commits", 1400, []int{1400, 12, 700, 1, 1400, 0, 333}},
		{"many growths", 10, []int{10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 10, 10, 10, 10, 10, 10, 10, 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool := pipeline.NewBatchPool(1)
			b := pool.Get()
			total := 0
			for i, n := range tt.sizes {
				s := b.Slot(tt.slot)
				if len(s) != tt.slot {
					t.Fatalf("packet %d: Slot(%d) has length %d", i, tt.slot, len(s))
				}
				fill(s[:n], i)
				b.Commit(n)
				total += n
			}
			if len(b.Packets) != len(tt.sizes) {
				t.Fatalf("%d packets, want %d", len(b.Packets), len(tt.sizes))
			}
			for i, n := range tt.sizes {
				want := make([]byte, n)
				fill(want, i)
				if !bytes.Equal(b.Packets[i], want) {
					t.Errorf("packet %d corrupted: got % x, want % x", i, b.Packets[i], want)
				}
				// Capacity is clipped so appending to one packet cannot
				// overwrite the next.
				if cap(b.Packets[i]) != n {
					t.Errorf("packet %d has cap %d, want %d", i, cap(b.Packets[i]), n)
				}
			}
			if b.Bytes() != total {
				t.Errorf("Bytes() = %d, want %d", b.Bytes(), total)
			}
		})
	}
}

// TestBatchReleaseReuse: a released batch comes back from its pool empty,
// with its memory, so the next frame needs no allocation.
func TestBatchReleaseReuse(t *testing.T) {
	pool := pipeline.NewBatchPool(1)
	b := pool.Get()
	for i := range 4 {
		fill(b.Slot(500), i)
		b.Commit(500)
	}
	b.Index, b.PTS, b.Timestamp = 3, 120, 10800
	b.Release()

	c := pool.Get()
	if c != b {
		t.Fatal("Get after Release returned a new batch")
	}
	if len(c.Packets) != 0 || c.Bytes() != 0 || c.Index != 0 || c.PTS != 0 || c.Timestamp != 0 {
		t.Errorf("reused batch not reset: %d packets, %d bytes, index %d, pts %v, ts %d",
			len(c.Packets), c.Bytes(), c.Index, c.PTS, c.Timestamp)
	}
	// The same four packets fit again without growing the store.
	if n := testing.AllocsPerRun(50, func() {
		c.Reset()
		for range 4 {
			c.Slot(500)
			c.Commit(500)
		}
	}); n != 0 {
		t.Errorf("refilling a reused batch allocates %v times, want 0", n)
	}
}

// TestBatchWithoutPool: a Batch made by hand has no pool; Release must be a
// no-op rather than a nil dereference.
func TestBatchWithoutPool(t *testing.T) {
	var b pipeline.Batch
	copy(b.Slot(3), "abc")
	b.Commit(3)
	b.Release()
	if string(b.Packets[0]) != "abc" {
		t.Errorf("packet = %q", b.Packets[0])
	}
}
