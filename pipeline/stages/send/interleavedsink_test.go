package send

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/rtcp"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// svInterleaved is a fake RTSP connection writer: it records what it
// accepts (copying, as the contract requires of real writers) and refuses
// writes for which refuse returns true, as a backed-up connection does.
type svInterleaved struct {
	mu       sync.Mutex
	refuse   func(channel uint8, n int) bool // n: index of this write on the channel
	writes   map[uint8][][]byte
	attempts map[uint8]int
}

func (w *svInterleaved) WriteInterleaved(channel uint8, data []byte) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.writes == nil {
		w.writes, w.attempts = make(map[uint8][][]byte), make(map[uint8]int)
	}
	n := w.attempts[channel]
	w.attempts[channel]++
	if w.refuse != nil && w.refuse(channel, n) {
		return false
	}
	w.writes[channel] = append(w.writes[channel], bytes.Clone(data))
	return true
}

func (w *svInterleaved) get(channel uint8) [][]byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writes[channel]
}

// TestInterleavedSink: RTP packets go out on Channel in order, an SR goes
// out on RTCPChannel after the first batch, and packets the connection
// refuses are dropped, reported (one Drop event per batch, ErrBackedUp)
// and counted in Stats, and not counted as sent.
func TestInterleavedSink(t *testing.T) {
	const ssrc = 0x01020304
	tests := []struct {
		name   string
		refuse func(channel uint8, n int) bool
	}{
		{"all accepted", nil},
		{"every third RTP write refused", func(ch uint8, n int) bool { return ch == 4 && n%3 == 2 }},
		{"everything refused", func(uint8, int) bool { return true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &svInterleaved{refuse: tt.refuse}
			var stats SendStats
			var events pipelinetest.Events
			s := &InterleavedSink{Conn: w, Channel: 4, RTCPChannel: 5, SSRC: ssrc, CNAME: "c", Sent: &stats,
				SRInterval: time.Hour, // only the early SR within the test
			}
			in, wait := svRunSink(events.Context(context.Background(), "sink"), s)

			var sent [][]byte
			var wantDrops []int
			rtpWrites, octets := 0, 0
			for k, n := range []int{4, 1, 6} {
				b := svBatch(k, n)
				dropped := 0
				for _, p := range b.Packets {
					if tt.refuse != nil && tt.refuse(4, rtpWrites) {
						dropped++
					} else {
						sent = append(sent, bytes.Clone(p))
						octets += len(p) - 12
					}
					rtpWrites++
				}
				if dropped > 0 {
					wantDrops = append(wantDrops, dropped)
				}
				in <- b
			}
			close(in)
			if err := wait(); err != nil {
				t.Fatalf("Run = %v", err)
			}

			got := w.get(4)
			if len(got) != len(sent) {
				t.Fatalf("%d packets on channel 4, want %d", len(got), len(sent))
			}
			for i := range sent {
				if !bytes.Equal(got[i], sent[i]) {
					t.Errorf("packet %d differs", i)
				}
			}
			var drops []int
			for _, e := range events.All() {
				if e.Kind != pipeline.Drop || !errors.Is(e.Err, ErrBackedUp) {
					t.Errorf("event %+v, want drops for ErrBackedUp only", e)
				}
				drops = append(drops, int(e.N))
			}
			if !slices.Equal(drops, wantDrops) {
				t.Errorf("drops reported %v, want %v", drops, wantDrops)
			}
			wantDropped := 0
			for _, n := range wantDrops {
				wantDropped += n
			}
			if st := s.Stats(); st.Packets != uint64(len(sent)) || st.Dropped != uint64(wantDropped) || st.Bytes != uint64(octets+12*len(sent)) {
				t.Errorf("Stats %+v, want %d packets of %d bytes sent, %d dropped", st, len(sent), octets+12*len(sent), wantDropped)
			}
			if stats.Packets.Load() != uint64(len(sent)) || stats.Octets.Load() != uint64(octets) {
				t.Errorf("stats %d packets %d octets, want %d, %d", stats.Packets.Load(), stats.Octets.Load(), len(sent), octets)
			}

			srs := w.get(5)
			if len(sent) == 0 {
				// Nothing sent: an SR would report nothing, so none is sent.
				if len(srs) != 0 {
					t.Errorf("%d SRs with no packet sent", len(srs))
				}
				return
			}
			if len(srs) != 1 {
				t.Fatalf("%d RTCP writes on channel 5, want the first SR only", len(srs))
			}
			pkts, err := rtcp.Unmarshal(srs[0])
			if err != nil {
				t.Fatalf("SR does not parse: %v", err)
			}
			sr, ok := pkts[0].(*rtcp.SenderReport)
			if !ok || sr.SSRC != ssrc || sr.PacketCount == 0 {
				t.Errorf("first RTCP packet %+v, want an SR for %#x with packets", pkts[0], uint32(ssrc))
			}
		})
	}
}

// TestInterleavedSinkPeriodicSR: after the first SR, one goes out every
// SRInterval; fake time makes the count exact.
func TestInterleavedSinkPeriodicSR(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &svInterleaved{}
		var stats SendStats
		ctx, cancel := context.WithCancel(context.Background())
		s := &InterleavedSink{Conn: w, Channel: 0, RTCPChannel: 1, Sent: &stats, SRInterval: time.Second}
		in, wait := svRunSink(ctx, s)
		in <- svBatch(0, 2)
		synctest.Wait()
		if n := len(w.get(1)); n != 1 {
			t.Fatalf("%d SRs after the first batch, want 1", n)
		}
		time.Sleep(3*time.Second + time.Millisecond)
		synctest.Wait()
		if n := len(w.get(1)); n != 4 {
			t.Errorf("%d SRs after 3 intervals, want 4", n)
		}
		cancel()
		if err := wait(); !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	})
}

// Compile-time check that the fake satisfies the interface.
var _ InterleavedWriter = (*svInterleaved)(nil)
