package receive

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

func udpListen(t *testing.T, addr string) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func udpSend(t *testing.T, from *net.UDPConn, to *net.UDPConn, data string) {
	t.Helper()
	if _, err := from.WriteToUDPAddrPort([]byte(data), to.LocalAddr().(*net.UDPAddr).AddrPort()); err != nil {
		t.Fatal(err)
	}
}

// udpRun starts src and returns its output and a function waiting for Run
// to return (failing the test if it takes more than a few seconds).
func udpRun(t *testing.T, ctx context.Context, src *UDPSource) (<-chan *pipeline.Packet, func() error) {
	out := make(chan *pipeline.Packet, 16)
	errc := make(chan error, 1)
	go func() { errc <- src.Run(ctx, out) }()
	return out, func() error {
		select {
		case err := <-errc:
			return err
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return")
			return nil
		}
	}
}

func udpRecv(t *testing.T, out <-chan *pipeline.Packet) *pipeline.Packet {
	t.Helper()
	select {
	case pk := <-out:
		return pk
	case <-time.After(5 * time.Second):
		t.Fatal("no packet")
		return nil
	}
}

// TestUDPSourceFlags: datagrams on each socket come out whole, trimmed,
// stamped and marked RTP or RTCP by the socket they arrived on.
func TestUDPSourceFlags(t *testing.T) {
	rtpConn, rtcpConn := udpListen(t, "127.0.0.1:0"), udpListen(t, "127.0.0.1:0")
	sender := udpListen(t, "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	out, wait := udpRun(t, ctx, &UDPSource{RTPConn: rtpConn, RTCPConn: rtcpConn})

	before := time.Now()
	udpSend(t, sender, rtpConn, "rtp-one")
	if pk := udpRecv(t, out); string(pk.Data) != "rtp-one" || pk.RTCP || pk.Received.Before(before) {
		t.Errorf("RTP packet %q rtcp=%v received %v", pk.Data, pk.RTCP, pk.Received)
	}
	udpSend(t, sender, rtcpConn, "rtcp")
	if pk := udpRecv(t, out); string(pk.Data) != "rtcp" || !pk.RTCP {
		t.Errorf("RTCP packet %q rtcp=%v", pk.Data, pk.RTCP)
	}
	big := string(make([]byte, 60000)) // a lab-sized datagram fits the private pool
	udpSend(t, sender, rtpConn, big)
	if pk := udpRecv(t, out); len(pk.Data) != len(big) {
		t.Errorf("big datagram came out as %d bytes", len(pk.Data))
	}
	cancel()
	if err := wait(); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
}

// TestUDPSourcePeer: with Peer set, datagrams from other hosts are dropped,
// reported and counted.
func TestUDPSourcePeer(t *testing.T) {
	rtpConn := udpListen(t, "127.0.0.1:0")
	good, bad := udpListen(t, "127.0.0.1:0"), udpListen(t, "127.0.0.2:0")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := &UDPSource{RTPConn: rtpConn, Peer: netip.MustParseAddr("127.0.0.1")}
	// In a pipeline, to hear what the source reports.
	var events pipelinetest.Events
	p := pipeline.New()
	p.OnEvent(events.Record)
	out := make(chan *pipeline.Packet, 16)
	pipeline.To(p, "forward", pipeline.SinkFunc[*pipeline.Packet](func(ctx context.Context, in <-chan *pipeline.Packet) error {
		for pk := range in {
			out <- pk
		}
		return nil
	}), pipeline.From(p, "udpsource", src))
	ran := make(chan error, 1)
	go func() { ran <- p.Run(ctx) }()
	udpSend(t, bad, rtpConn, "intruder")
	udpSend(t, good, rtpConn, "server")
	if pk := udpRecv(t, out); string(pk.Data) != "server" {
		t.Errorf("got %q, want the server's datagram", pk.Data)
	}
	// The intruder's datagram came first, so it was handled by now.
	if n := src.Stats().Filtered; n != 1 {
		t.Errorf("Filtered = %d, want 1", n)
	}
	if e := events.All(); len(e) != 1 || e[0].Stage != "udpsource" || e[0].Kind != pipeline.Drop || e[0].Err != ErrNotFromPeer {
		t.Errorf("events:\n%s", &events)
	}
	cancel()
	<-ran
}

// TestUDPSourceStops: cancellation ends Run promptly even with a long read
// timeout; a closed socket ends it with nil and stops the other reader.
func TestUDPSourceStops(t *testing.T) {
	t.Run("cancel", func(t *testing.T) {
		// Both reader goroutines are gone once Run has returned.
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		ctx, cancel := context.WithCancel(context.Background())
		_, wait := udpRun(t, ctx, &UDPSource{RTPConn: udpListen(t, "127.0.0.1:0"), RTCPConn: udpListen(t, "127.0.0.1:0"),
			ReadTimeout: time.Minute})
		time.Sleep(20 * time.Millisecond) // let the readers block
		start := time.Now()
		cancel()
		if err := wait(); !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("Run took %v to notice the cancellation", d)
		}
	})
	t.Run("closed socket", func(t *testing.T) {
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		rtpConn := udpListen(t, "127.0.0.1:0")
		_, wait := udpRun(t, context.Background(), &UDPSource{RTPConn: rtpConn, RTCPConn: udpListen(t, "127.0.0.1:0"),
			ReadTimeout: 50 * time.Millisecond})
		time.Sleep(20 * time.Millisecond)
		rtpConn.Close()
		if err := wait(); err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	})
}

// TestUDPSourceConnRefused: a connected socket learns of an ICMP port
// unreachable on its next read (ECONNREFUSED); the source reads on.
func TestUDPSourceConnRefused(t *testing.T) {
	peer := udpListen(t, "127.0.0.1:0")
	peerAddr := peer.LocalAddr().(*net.UDPAddr)
	conn, err := net.DialUDP("udp4", nil, peerAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	peer.Close()
	if _, err := conn.Write([]byte("nobody home")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // let the ICMP error arrive
	// Make sure the platform really reports it, on a twin socket.
	probe, err := net.DialUDP("udp4", nil, peerAddr)
	if err != nil {
		t.Fatal(err)
	}
	probe.Write([]byte("nobody home"))
	time.Sleep(20 * time.Millisecond)
	probe.SetReadDeadline(time.Now().Add(time.Second))
	_, err = probe.Read(make([]byte, 16))
	probe.Close()
	if !ignorable(err) {
		t.Skipf("no ICMP error reported here (read: %v)", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, wait := udpRun(t, ctx, &UDPSource{RTPConn: conn})
	// The peer comes back on the same port and sends.
	back := udpListen(t, peerAddr.String())
	if _, err := back.WriteToUDP([]byte("back"), conn.LocalAddr().(*net.UDPAddr)); err != nil {
		t.Fatal(err)
	}
	if pk := udpRecv(t, out); string(pk.Data) != "back" {
		t.Errorf("got %q", pk.Data)
	}
	cancel()
	if err := wait(); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled (the refusal must be ignored)", err)
	}
}

// TestUDPSourceReadAllocs: reading a datagram into a pooled packet
// allocates nothing.
func TestUDPSourceReadAllocs(t *testing.T) {
	conn, sender := udpListen(t, "127.0.0.1:0"), udpListen(t, "127.0.0.1:0")
	const runs = 50
	for range runs + 1 {
		udpSend(t, sender, conn, "0123456789abcdef0123456789abcdef")
	}
	src := &UDPSource{Peer: netip.MustParseAddr("127.0.0.1")}
	pk := pipeline.NewPacketPool(1, 1500).Get()
	var failed error
	n := testing.AllocsPerRun(runs, func() {
		ok, err := src.read(conn, pk, false)
		if err != nil || !ok || len(pk.Data) != 32 {
			failed = errors.Join(err, errors.New("short or filtered read"))
		}
	})
	if failed != nil {
		t.Fatal(failed)
	}
	if n != 0 {
		t.Errorf("read allocates %v times per datagram", n)
	}
}

func TestInterleavedSource(t *testing.T) {
	frames := make(chan *pipeline.Packet, 3)
	frames <- &pipeline.Packet{Data: []byte("rtp")}
	frames <- nil
	frames <- &pipeline.Packet{Data: []byte("rtcp"), RTCP: true, Received: rxEpoch}
	close(frames)
	out := make(chan *pipeline.Packet, 3)
	if err := (&InterleavedSource{Frames: frames}).Run(context.Background(), out); err != nil {
		t.Fatalf("Run = %v, want nil when Frames closes", err)
	}
	close(out)
	var got []*pipeline.Packet
	for pk := range out {
		got = append(got, pk)
	}
	if len(got) != 2 || string(got[0].Data) != "rtp" || got[0].RTCP || got[0].Received.IsZero() ||
		string(got[1].Data) != "rtcp" || !got[1].RTCP || !got[1].Received.Equal(rxEpoch) {
		t.Errorf("forwarded %v", got)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (&InterleavedSource{Frames: make(chan *pipeline.Packet)}).Run(ctx, out); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v after cancel, want context.Canceled", err)
	}
}

// TestUDPSourcePush: pushed, each datagram reaches emit on the reader
// goroutine of its socket, flagged as Run flags it; cancelling ends Push.
func TestUDPSourcePush(t *testing.T) {
	rtpConn, rtcpConn := udpListen(t, "127.0.0.1:0"), udpListen(t, "127.0.0.1:0")
	sender := udpListen(t, "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan *pipeline.Packet, 16)
	errc := make(chan error, 1)
	go func() {
		errc <- (&UDPSource{RTPConn: rtpConn, RTCPConn: rtcpConn}).Push(ctx, func(pk *pipeline.Packet) { out <- pk })
	}()
	udpSend(t, sender, rtpConn, "rtp-one")
	if pk := udpRecv(t, out); string(pk.Data) != "rtp-one" || pk.RTCP {
		t.Errorf("RTP packet %q rtcp=%v", pk.Data, pk.RTCP)
	}
	udpSend(t, sender, rtcpConn, "rtcp")
	if pk := udpRecv(t, out); string(pk.Data) != "rtcp" || !pk.RTCP {
		t.Errorf("RTCP packet %q rtcp=%v", pk.Data, pk.RTCP)
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Push = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Push did not return")
	}
}
