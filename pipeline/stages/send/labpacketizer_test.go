package send

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// TestLabPacketizer checks the datagrams the original lab client expects:
// one per frame, a bare 12-byte header (V=2, PT 26, no marker, sequence
// number continuing from *Seq, wall-clock seconds as timestamp, SSRC 0),
// then the whole JPEG. Frames the client could not receive in one read are
// dropped and reported, and consume no sequence number.
func TestLabPacketizer(t *testing.T) {
	const maxFrame = LabMaxDatagram - 12
	now := time.Date(2024, 5, 1, 12, 0, 0, 750_000_000, time.UTC)
	frames := []*pipeline.Frame{
		{Data: []byte("\xff\xd8tiny\xff\xd9"), Index: 40, PTS: 1600 * time.Millisecond},
		{Data: bytes.Repeat([]byte{0xAB}, maxFrame), Index: 41, PTS: 1640 * time.Millisecond}, // largest that fits
		{Data: make([]byte, maxFrame+1), Index: 42},                                           // one byte too many
		{Data: []byte("x"), Index: 43, PTS: 1720 * time.Millisecond},
	}
	seq := uint16(65534) // the last packet sent: the next ones are 65535, 0, 1
	var events pipelinetest.Events
	p := &LabPacketizer{Seq: &seq, Now: func() time.Time { return now }}
	batches, err := svRun(t, events.Context(context.Background(), "packetizer"), p, frames)
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	if dropped := svDropped(t, &events, ErrLabFrameTooLarge); len(dropped) != 1 || dropped[0] != 42 {
		t.Errorf("dropped %v, want [42]", dropped)
	}
	kept := []*pipeline.Frame{frames[0], frames[1], frames[3]}
	wantSeq := []uint16{65535, 0, 1}
	if len(batches) != len(kept) {
		t.Fatalf("%d batches, want %d", len(batches), len(kept))
	}
	for k, b := range batches {
		fr := kept[k]
		if len(b.Packets) != 1 {
			t.Fatalf("batch %d: %d packets, want 1", k, len(b.Packets))
		}
		pkt := b.Packets[0]
		hdr := make([]byte, 12)
		hdr[0], hdr[1] = 0x80, 26
		binary.BigEndian.PutUint16(hdr[2:], wantSeq[k])
		binary.BigEndian.PutUint32(hdr[4:], uint32(now.Unix())) // seconds, truncated
		if !bytes.Equal(pkt[:12], hdr) {
			t.Errorf("batch %d header % x, want % x", k, pkt[:12], hdr)
		}
		if !bytes.Equal(pkt[12:], fr.Data) {
			t.Errorf("batch %d payload is not the whole frame", k)
		}
		if len(pkt) > LabMaxDatagram {
			t.Errorf("batch %d: %d-byte datagram", k, len(pkt))
		}
		if b.Index != fr.Index || b.PTS != fr.PTS || b.Timestamp != uint32(now.Unix()) {
			t.Errorf("batch %d: index %d pts %v ts %d", k, b.Index, b.PTS, b.Timestamp)
		}
	}
	if seq != 1 {
		t.Errorf("*Seq = %d after the run, want 1 (the last sent)", seq)
	}
}

// TestLabPacketizerCopies: the packet is a copy, so the frame can be
// released (and its buffer reused) while the batch waits to be sent.
func TestLabPacketizerCopies(t *testing.T) {
	var seq uint16
	data := []byte("\xff\xd8frame\xff\xd9")
	batches, err := svRun(t, context.Background(), &LabPacketizer{Seq: &seq}, []*pipeline.Frame{svFrame(0, data)})
	if err != nil || len(batches) != 1 {
		t.Fatalf("Run = %v, %d batches", err, len(batches))
	}
	copy(data, "XXXXXXXXX")
	if got := string(batches[0].Packets[0][12:]); got != "\xff\xd8frame\xff\xd9" {
		t.Errorf("payload changed with the frame's buffer: %q", got)
	}
}
