package receive

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// withPT is an RTP packet of payload type pt.
func withPT(seq uint16, pt uint8) *pipeline.Packet {
	b := rxRTP(seq, 0, 1)
	b[1] = b[1]&0x80 | pt
	return rxPacket(b, time.Now())
}

// TestPayloadCheck passes RTCP and RTP of the announced payload type,
// drops (and counts) other payload types and what is not RTP.
func TestPayloadCheck(t *testing.T) {
	c := &PayloadCheck{PayloadType: 26}
	rtcp := rxPacket([]byte{0x80, 200, 0, 1, 0, 0, 0, 1}, time.Now())
	rtcp.RTCP = true
	out, events := pipelinetest.RunStageEvents[*pipeline.Packet, *pipeline.Packet](t, c,
		withPT(1, 26), withPT(2, 96), rtcp, rxPacket([]byte("garbage, not RTP"), time.Now()), withPT(3, 26))
	if len(out) != 3 || rxSeq(out[0]) != 1 || !out[1].RTCP || rxSeq(out[2]) != 3 {
		t.Fatalf("passed %d packets, want RTP 1, the RTCP, RTP 3", len(out))
	}
	pipelinetest.Release(out...)
	if st := c.Stats(); st.Packets != 5 || st.Bad != 2 {
		t.Fatalf("stats %+v, want 5 packets, 2 bad", st)
	}
	if n := events.Sum("", pipeline.Drop); n != 2 {
		t.Fatalf("%d drops reported, want 2: %s", n, events)
	}
}

// TestPayloadCheckGarbageEnds: MaxBad bad packets in a row end the stage
// with ErrGarbage; a good packet between resets the count.
func TestPayloadCheckGarbageEnds(t *testing.T) {
	c := &PayloadCheck{PayloadType: 26, MaxBad: 3}
	in := make(chan *pipeline.Packet, 8)
	out := make(chan *pipeline.Packet, 8)
	for _, pk := range []*pipeline.Packet{withPT(1, 96), withPT(2, 96), withPT(3, 26), withPT(4, 96), withPT(5, 96), withPT(6, 96)} {
		in <- pk
	}
	err := c.Run(context.Background(), in, out)
	if !errors.Is(err, ErrGarbage) {
		t.Fatalf("Run: %v, want ErrGarbage", err)
	}
	if len(out) != 1 {
		t.Fatalf("%d packets passed, want 1", len(out))
	}
}
