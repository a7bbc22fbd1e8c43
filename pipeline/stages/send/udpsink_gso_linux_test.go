package send

import (
	"bytes"
	"context"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// svCheckGSOUsed fails the test if the sink should have sent with GSO
// and did not (the kernel refused it, or it never tried), or used it
// though told not to. Loopback takes GSO on any kernel from 4.18.
func svCheckGSOUsed(t *testing.T, s *UDPSink, want bool) {
	t.Helper()
	used := s.gso.rc != nil && !s.gso.off
	switch {
	case want && s.gso.off:
		t.Errorf("the kernel refused UDP GSO (%v); only the fallback was tested", s.gso.errno)
	case used != want:
		t.Errorf("GSO used: %v, want %v", used, want)
	}
}

// TestGSOCmsgLayout: gsoCmsg is exactly what CMSG_SPACE(2) describes.
func TestGSOCmsgLayout(t *testing.T) {
	var c gsoCmsg
	if off, size := unsafe.Offsetof(c.size), unsafe.Sizeof(c); int(off) != unix.CmsgLen(0) || int(size) != unix.CmsgSpace(2) {
		t.Errorf("gsoCmsg: data at %d, size %d; want %d, %d", off, size, unix.CmsgLen(0), unix.CmsgSpace(2))
	}
}

// TestUDPSinkGSOFallback: where the kernel refuses GSO, the sink
// remembers it and sends packet by packet, losing nothing and reporting
// no error. SO_NO_CHECK (no UDP checksums) is a way to make loopback
// refuse: segmentation needs the checksum (EINVAL).
func TestUDPSinkGSOFallback(t *testing.T) {
	conn, rx := svListenUDP(t), svListenUDP(t)
	rc, err := conn.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_NO_CHECK, 1)
	}); err != nil || serr != nil {
		t.Skipf("SO_NO_CHECK: %v %v", err, serr)
	}
	var stats SendStats
	s := &UDPSink{Conn: conn, Dest: svAddr(rx), Sent: &stats}
	var events pipelinetest.Events
	ctx := events.Context(context.Background(), "sink")
	for k := range 3 {
		b := svSizedBatch(k, svSizes(19, 1400, 900)...)
		wait := svCollect(t, rx, len(b.Packets))
		if err := s.send(ctx, b); err != nil {
			t.Fatal(err)
		}
		got := wait()
		if len(got) != len(b.Packets) {
			t.Fatalf("batch %d: %d datagrams, want %d", k, len(got), len(b.Packets))
		}
		for i, p := range b.Packets {
			if !bytes.Equal(got[i], p) {
				t.Fatalf("batch %d datagram %d differs", k, i)
			}
		}
		if !s.gso.off || s.gso.errno != unix.EINVAL {
			t.Fatalf("batch %d: GSO off %v (errno %v), want off after EINVAL", k, s.gso.off, s.gso.errno)
		}
	}
	if n := stats.Packets.Load(); n != 60 {
		t.Errorf("Sent.Packets = %d, want 60", n)
	}
	if len(events.All()) != 0 {
		t.Errorf("a refused GSO is no send error, yet:\n%s", events.String())
	}
}
