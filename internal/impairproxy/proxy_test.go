package impairproxy

import "testing"

func TestExtend(t *testing.T) {
	for _, c := range []struct {
		seq  uint16
		ref  int64
		want int64
	}{
		{5, 3, 5},
		{65534, 65536 + 2, 65534}, // just before a wrap
		{1, 65535, 65536 + 1},     // just after one
		{100, 3*65536 + 90, 3*65536 + 100},
	} {
		if got := extend(c.seq, c.ref); got != c.want {
			t.Errorf("extend(%d, %d) = %d, want %d", c.seq, c.ref, got, c.want)
		}
	}
}

// Undelivered counts the window's holes across a sequence wrap, ignoring
// duplicates and what lies outside the window.
func TestUndelivered(t *testing.T) {
	s := &Stream{delivered: make(map[int64]bool)}
	if _, ok := s.Undelivered(0, 10); ok {
		t.Error("ok before anything was delivered")
	}
	seq := uint16(65530)
	for i := range 20 {
		if i != 3 && i != 9 && i != 15 { // 65533, 3 and 9 never sent
			s.record(seq)
			if i == 5 {
				s.record(seq) // a duplicate
			}
		}
		seq++
	}
	// Delivered up to seq 13 (65530+19 mod 2^16); the window of 12
	// ending at 13 is 2..13: only 3 and 9 are missing.
	if n, ok := s.Undelivered(13, 12); !ok || n != 2 {
		t.Errorf("Undelivered(13, 12) = %d, %v; want 2, true", n, ok)
	}
	if n, ok := s.Undelivered(13, 20); !ok || n != 3 {
		t.Errorf("Undelivered(13, 20) = %d, %v; want 3, true", n, ok)
	}
	if _, ok := s.Undelivered(9, 5); ok {
		t.Error("ok for a window ending on a packet never sent")
	}
}
