package send

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/pion/rtcp"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// These tests use real sockets on 127.0.0.1. Loopback UDP does not lose
// or reorder datagrams that fit the receive buffer, so "every packet
// arrives in order" is a fair expectation. Read deadlines only turn a
// missing datagram into a failure instead of a hang.

func svListenUDP(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func svAddr(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }

// svBatch builds a batch of n RTP-like packets; packet i of batch k has a
// unique size and content so that loss, reordering or truncation show.
func svBatch(k, n int) *pipeline.Batch {
	b := &pipeline.Batch{Index: k, Timestamp: uint32(3600 * k)}
	for i := range n {
		size := 12 + 100 + 37*i + k
		pkt := b.Slot(size)
		pkt[0] = 0x80
		for j := 1; j < size; j++ {
			pkt[j] = byte(k*13 + i*7 + j)
		}
		b.Commit(size)
	}
	return b
}

// svReadDatagram reads one datagram, failing the test if none comes.
func svReadDatagram(t *testing.T, c *net.UDPConn) []byte {
	t.Helper()
	buf := make([]byte, 65536)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no datagram on %v: %v", c.LocalAddr(), err)
	}
	return buf[:n]
}

// svRunSink starts s and returns its input and a function waiting for Run.
func svRunSink(ctx context.Context, s interface {
	Run(context.Context, <-chan *pipeline.Batch) error
}) (chan<- *pipeline.Batch, func() error) {
	in := make(chan *pipeline.Batch)
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx, in) }()
	return in, func() error { return <-errc }
}

// TestUDPSinkDelivers: every packet reaches the client's RTP port in order
// and intact; Sent counts packets and payload octets and Stats packets
// and bytes; nothing is reported (no drop, no warning); the first batch is
// followed by an RTCP SR on the RTCP port, with the SSRC and the counts.
func TestUDPSinkDelivers(t *testing.T) {
	const ssrc = 0xDEADBEEF
	conn, rtpRx, rtcpTx, rtcpRx := svListenUDP(t), svListenUDP(t), svListenUDP(t), svListenUDP(t)
	var stats SendStats
	s := &UDPSink{Conn: conn, Dest: svAddr(rtpRx), RTCPConn: rtcpTx, RTCPDest: svAddr(rtcpRx),
		SSRC: ssrc, CNAME: "test", Sent: &stats}
	var events pipelinetest.Events
	in, wait := svRunSink(events.Context(context.Background(), "sink"), s)

	var sent [][]byte
	wantOctets := 0
	defer func() {
		if len(events.All()) != 0 {
			t.Errorf("events on a healthy path:\n%s", events.String())
		}
		if st := s.Stats(); st.Packets != uint64(len(sent)) || st.Bytes != uint64(wantOctets+12*len(sent)) || st.Dropped != 0 {
			t.Errorf("Stats %+v, want %d packets, %d bytes, none dropped", st, len(sent), wantOctets+12*len(sent))
		}
	}()
	for k, n := range []int{1, 3, 10} {
		b := svBatch(k, n)
		for _, p := range b.Packets {
			sent = append(sent, bytes.Clone(p))
			wantOctets += len(p) - 12
		}
		in <- b
	}
	close(in)
	if err := wait(); err != nil {
		t.Fatalf("Run = %v", err)
	}
	for i, want := range sent {
		if got := svReadDatagram(t, rtpRx); !bytes.Equal(got, want) {
			t.Fatalf("datagram %d: %d bytes, want packet %d (%d bytes)", i, len(got), i, len(want))
		}
	}
	if got := stats.Packets.Load(); got != uint64(len(sent)) {
		t.Errorf("Sent.Packets = %d, want %d", got, len(sent))
	}
	if got := stats.Octets.Load(); got != uint64(wantOctets) {
		t.Errorf("Sent.Octets = %d, want %d", got, wantOctets)
	}

	pkts, err := rtcp.Unmarshal(svReadDatagram(t, rtcpRx))
	if err != nil {
		t.Fatalf("RTCP datagram does not parse: %v", err)
	}
	sr, ok := pkts[0].(*rtcp.SenderReport)
	if !ok {
		t.Fatalf("first RTCP packet is %T, want an SR", pkts[0])
	}
	// The SR follows the first batch, of 1 packet; later batches may or
	// may not have been counted when it was built.
	if sr.SSRC != ssrc || sr.PacketCount == 0 || sr.PacketCount > uint32(len(sent)) {
		t.Errorf("SR ssrc %#x packet count %d", sr.SSRC, sr.PacketCount)
	}
}

// TestUDPSinkNoRTCP: without an RTCP socket (the lab dialect) the sink
// sends RTP only, and no SR goes out on the RTP port.
func TestUDPSinkNoRTCP(t *testing.T) {
	conn, rx := svListenUDP(t), svListenUDP(t)
	var stats SendStats
	in, wait := svRunSink(context.Background(), &UDPSink{Conn: conn, Dest: svAddr(rx), Sent: &stats})
	in <- svBatch(0, 2)
	in <- svBatch(1, 1)
	close(in)
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if d := svReadDatagram(t, rx); d[0] != 0x80 || len(d) < 112 {
			t.Errorf("unexpected datagram of %d bytes", len(d))
		}
	}
	// Anything the sink sent was queued at rx before Run returned, so a
	// marker sent now must be the very next datagram: an SR sent to the
	// RTP port would come first.
	marker := svListenUDP(t)
	if _, err := marker.WriteToUDPAddrPort([]byte("marker"), svAddr(rx)); err != nil {
		t.Fatal(err)
	}
	if d := svReadDatagram(t, rx); string(d) != "marker" {
		t.Errorf("extra %d-byte datagram on the RTP port", len(d))
	}
}

// TestUDPSinkClientGone: a client that stops listening makes the kernel
// answer with ICMP port unreachable, reported as ECONNREFUSED on later
// writes. That must not stop the sink: it reports the errors and keeps
// taking batches (the session timeout decides when a client is gone).
// With GSO, the error fails a whole frame's send, is reported, and the
// frame goes out packet by packet; as every frame is first tried with
// GSO, the first error must come from the GSO send (sendmsg).
func TestUDPSinkClientGone(t *testing.T) {
	t.Run("per-packet", func(t *testing.T) {
		svClientGone(t, true, func(k int) *pipeline.Batch { return svBatch(k, 2) })
	})
	t.Run("gso", func(t *testing.T) {
		svClientGone(t, false, func(k int) *pipeline.Batch { return svSizedBatch(k, svSizes(19, 1400, 500)...) })
	})
}

func svClientGone(t *testing.T, noGSO bool, batch func(k int) *pipeline.Batch) {
	conn := svListenUDP(t)
	if !svReportICMPErrors(t, conn) {
		t.Skip("ICMP errors cannot be enabled on this platform's UDP sockets")
	}
	gone := svListenUDP(t)
	dest := svAddr(gone)
	gone.Close()

	errs := make(chan error, 100)
	var stats SendStats
	s := &UDPSink{Conn: conn, Dest: dest, Sent: &stats, NoGSO: noGSO}
	// A refused GSO send is a warning (its packets go again one by one),
	// a refused packet a drop: either way an event, never the sink's end.
	ctx := pipeline.StageContext(context.Background(), "sink", func(e pipeline.Event) {
		select {
		case errs <- e.Err:
		default:
		}
	})
	in, wait := svRunSink(ctx, s)
	// Keep sending until an error has been reported, then some more: each
	// send after the error proves the sink went back to its input.
	sawErr := false
	for k := 0; k < 1000 && !sawErr; k++ {
		in <- batch(k)
		select {
		case err := <-errs:
			sawErr = true
			if !errors.Is(err, svErrConnRefused) {
				t.Errorf("reported %v, want ECONNREFUSED", err)
			}
			var se *os.SyscallError
			if !noGSO && (!errors.As(err, &se) || se.Syscall != "sendmsg") {
				t.Errorf("first error %v does not come from the GSO send", err)
			}
		default:
		}
	}
	if !sawErr {
		t.Fatal("no send error after 1000 batches to a closed port")
	}
	for k := range 5 {
		in <- batch(k)
	}
	close(in)
	if err := wait(); err != nil {
		t.Errorf("Run = %v, want nil: send errors must not end the sink", err)
	}
	svCheckGSOUsed(t, s, !noGSO)
}

// TestUDPSinkClosedConn: a closed socket is the end of the session; Run
// returns the error rather than spinning on it.
func TestUDPSinkClosedConn(t *testing.T) {
	conn, rx := svListenUDP(t), svListenUDP(t)
	conn.Close()
	var stats SendStats
	in, wait := svRunSink(context.Background(), &UDPSink{Conn: conn, Dest: svAddr(rx), Sent: &stats})
	pool := pipeline.NewBatchPool(1)
	b := pool.Get()
	copy(b.Slot(20), "xxxxxxxxxxxxxxxxxxxx")
	b.Commit(20)
	in <- b
	if err := wait(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Run = %v, want net.ErrClosed", err)
	}
	if pool.Get() != b {
		t.Error("the batch was not released")
	}
	if stats.Packets.Load() != 0 {
		t.Error("a failed send was counted")
	}
}

// TestUDPSinkCancel: cancelling the pipeline stops an idle sink.
func TestUDPSinkCancel(t *testing.T) {
	conn, rx := svListenUDP(t), svListenUDP(t)
	ctx, cancel := context.WithCancel(context.Background())
	var stats SendStats
	_, wait := svRunSink(ctx, &UDPSink{Conn: conn, Dest: svAddr(rx), RTCPConn: conn, Sent: &stats})
	cancel()
	if err := wait(); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
}

// svSendFixture is a sink and a 10-packet batch for the allocation test
// and the benchmark, sending to a listening loopback socket.
func svSendFixture(t testing.TB) (*UDPSink, *pipeline.Batch) {
	conn, rx := svListenUDP(t), svListenUDP(t)
	// Datagrams beyond the receive buffer are dropped silently by the
	// kernel, which is fine: nobody reads them.
	return &UDPSink{Conn: conn, Dest: svAddr(rx), Sent: new(SendStats)}, svBatch(1, 10)
}

// TestUDPSinkSendAllocs: sending a batch (WriteToUDPAddrPort per packet,
// stats update) allocates nothing.
func TestUDPSinkSendAllocs(t *testing.T) {
	s, b := svSendFixture(t)
	if err := s.send(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if err := s.send(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("%v allocations per batch, want 0", n)
	}
}

// BenchmarkUDPSinkSend measures sending one 10-packet batch.
func BenchmarkUDPSinkSend(b *testing.B) {
	s, batch := svSendFixture(b)
	b.SetBytes(int64(batch.Bytes()))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.send(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
}
