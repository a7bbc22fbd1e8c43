package send

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// svListenOn is svListenUDP on a given local address; it skips the test
// where the address family is unavailable (no IPv6 in a container).
func svListenOn(t testing.TB, addr string) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// svSizedBatch builds batch k with packets of the given sizes; every byte
// depends on k, the packet's index and its position, so that a datagram
// cut at the wrong place, or reordered, or lost, shows.
func svSizedBatch(k int, sizes ...int) *pipeline.Batch {
	b := &pipeline.Batch{Index: k, Timestamp: uint32(3600 * k)}
	for i, size := range sizes {
		pkt := b.Slot(size)
		for j := range pkt {
			pkt[j] = byte(k*31 + i*7 + j)
		}
		if size > 0 {
			pkt[0] = 0x80
		}
		if size >= 4 {
			pkt[2], pkt[3] = byte(i>>8), byte(i) // sequence number
		}
		b.Commit(size)
	}
	return b
}

// svSplit makes b's packets split (pipeline.Batch.Payloads) when split:
// the first 12 bytes (or fewer) stay in the batch, the rest moves to a
// payload buffer of its own, as PacketSource shares payloads.
func svSplit(b *pipeline.Batch, split bool) *pipeline.Batch {
	if !split {
		return b
	}
	out := &pipeline.Batch{Index: b.Index, Timestamp: b.Timestamp}
	for _, p := range b.Packets {
		h := min(12, len(p))
		copy(out.Slot(h), p[:h])
		out.CommitShared(h, bytes.Clone(p[h:]))
	}
	return out
}

// svSizes is n packets of size, then the extra sizes.
func svSizes(n, size int, extra ...int) []int {
	return append(slices.Repeat([]int{size}, n), extra...)
}

// svCollect reads n datagrams from c in the background, so that a large
// batch does not overflow the receive buffer; the returned function
// waits for them.
func svCollect(t *testing.T, c *net.UDPConn, n int) func() [][]byte {
	t.Helper()
	c.SetReadBuffer(4 << 20) // best effort: capped by net.core.rmem_max
	done := make(chan [][]byte, 1)
	go func() {
		var got [][]byte
		buf := make([]byte, 65536)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		for len(got) < n {
			m, err := c.Read(buf)
			if err != nil {
				break
			}
			got = append(got, bytes.Clone(buf[:m]))
		}
		done <- got
	}()
	return func() [][]byte { return <-done }
}

// TestUDPSinkGSODelivers: on the GSO path and the per-packet path, over
// IPv4, IPv6, a dual-stack socket sending to IPv4 and an IPv4 socket
// given a v4-mapped address, every packet of a batch arrives as its own
// datagram, intact and in order, and Stats and OnSent count exactly the
// packets, whatever the shape of the batch.
func TestUDPSinkGSODelivers(t *testing.T) {
	nets := []struct {
		name, local, rx string
		mapped          bool // send to the v4-mapped form of rx
	}{
		{"ipv4", "127.0.0.1:0", "127.0.0.1:0", false},
		{"ipv6", "[::1]:0", "[::1]:0", false},
		{"dualstack-to-ipv4", "[::]:0", "127.0.0.1:0", false},
		{"ipv4-to-mapped", "127.0.0.1:0", "127.0.0.1:0", true},
	}
	shapes := []struct {
		name  string
		sizes []int
	}{
		{"frame", svSizes(19, 1400, 713)},
		{"equal", svSizes(20, 1400)},
		{"one", []int{1400}},
		{"two-short-last", []int{1400, 1}},
		{"over64packets", svSizes(150, 1200, 77)}, // > 64 packets and > 64 KiB
		{"over64KiB", svSizes(50, 1400, 1000)},    // < 64 packets but > 64 KiB
		{"unequal-middle", append(svSizes(5, 1400, 900, 1400, 1400, 1000, 1000, 300), svSizes(3, 1200)...)},
		{"growing", []int{100, 200, 300}},
		{"jumbo", []int{60000, 60000, 5}}, // no two fit one GSO send
	}
	for _, nt := range nets {
		for _, path := range []string{"gso", "per-packet", "gso-split", "per-packet-split"} {
			t.Run(nt.name+"/"+path, func(t *testing.T) {
				split := strings.HasSuffix(path, "-split")
				conn, rx := svListenOn(t, nt.local), svListenOn(t, nt.rx)
				dest := svAddr(rx)
				if nt.mapped {
					dest = netip.AddrPortFrom(netip.AddrFrom16(dest.Addr().As16()), dest.Port())
				}
				var stats SendStats
				var onSent []int
				s := &UDPSink{Conn: conn, Dest: dest, Sent: &stats, NoGSO: strings.HasPrefix(path, "per-packet"),
					OnSent: func(p, b int) { onSent = append(onSent, p, b) }}
				var events pipelinetest.Events
				ctx := events.Context(context.Background(), "sink")
				defer func() {
					if len(events.All()) != 0 {
						t.Errorf("events on a healthy path:\n%s", events.String())
					}
				}()
				for k, sh := range shapes {
					whole := svSizedBatch(k, sh.sizes...)
					want := make([][]byte, len(whole.Packets))
					for i, p := range whole.Packets {
						want[i] = bytes.Clone(p)
					}
					b := svSplit(whole, split)
					wait := svCollect(t, rx, len(want))
					before := stats.Packets.Load()
					onSent = onSent[:0]
					if err := s.send(ctx, b); err != nil {
						t.Fatalf("%s: send = %v", sh.name, err)
					}
					got := wait()
					if len(got) != len(want) {
						t.Fatalf("%s: %d datagrams, want %d", sh.name, len(got), len(want))
					}
					for i := range want {
						if !bytes.Equal(got[i], want[i]) {
							t.Fatalf("%s: datagram %d: %d bytes, want packet %d (%d bytes)",
								sh.name, i, len(got[i]), i, len(want[i]))
						}
					}
					if n := stats.Packets.Load() - before; n != uint64(len(want)) {
						t.Errorf("%s: Sent counted %d packets, want %d", sh.name, n, len(want))
					}
					if w := []int{len(want), b.Bytes()}; fmt.Sprint(onSent) != fmt.Sprint(w) {
						t.Errorf("%s: OnSent calls %v, want one with %v", sh.name, onSent, w)
					}
				}
				svCheckGSOUsed(t, s, strings.HasPrefix(path, "gso"))
			})
		}
	}
}

// TestGSORun: how batches are cut into GSO sends.
func TestGSORun(t *testing.T) {
	for _, c := range []struct {
		sizes []int
		want  []int // run lengths
	}{
		{[]int{1400}, []int{1}},
		{svSizes(20, 1400), []int{20}},
		{svSizes(19, 1400, 700), []int{20}},
		{svSizes(3, 1400, 700, 700), []int{4, 1}},
		{[]int{100, 200, 300}, []int{1, 1, 1}},
		{[]int{1400, 1400, 1500, 1500}, []int{2, 2}},
		{[]int{1400, 0, 1400}, []int{1, 1, 1}},
		{svSizes(130, 100), []int{64, 64, 2}},
		{svSizes(50, 1400), []int{46, 4}}, // 46*1400 = 64400 <= 65000
		{[]int{65000, 1}, []int{1, 1}},
		{[]int{70000, 70000}, []int{1, 1}},
	} {
		for _, split := range []bool{false, true} {
			var got []int
			b := svSplit(svSizedBatch(0, c.sizes...), split)
			for i := 0; i < len(b.Packets); {
				n := gsoRun(b, i)
				got, i = append(got, n), i+n
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("sizes %v (split %v): runs %v, want %v", c.sizes, split, got, c.want)
			}
		}
	}
}

// svFrameFixture is a sink and a 20-packet 1400-byte frame (a typical
// 28 KB MJPEG frame at a 1400-byte MTU) sending to a loopback socket
// nobody reads: the kernel drops what overflows its receive buffer.
func svFrameFixtureSplit(t testing.TB, noGSO, split bool) (*UDPSink, *pipeline.Batch) {
	conn, rx := svListenUDP(t), svListenUDP(t)
	return &UDPSink{Conn: conn, Dest: svAddr(rx), Sent: new(SendStats), NoGSO: noGSO},
		svSplit(svSizedBatch(1, svSizes(19, 1400, 1000)...), split)
}

// TestUDPSinkFrameAllocs: in steady state, sending a frame allocates
// nothing, on either path.
func TestUDPSinkFrameAllocs(t *testing.T) {
	for _, path := range []string{"gso", "per-packet", "gso-split", "per-packet-split"} {
		t.Run(path, func(t *testing.T) {
			s, b := svFrameFixtureSplit(t, strings.HasPrefix(path, "per-packet"), strings.HasSuffix(path, "-split"))
			if err := s.send(context.Background(), b); err != nil { // first use sets up the socket
				t.Fatal(err)
			}
			if n := testing.AllocsPerRun(100, func() {
				if err := s.send(context.Background(), b); err != nil {
					t.Fatal(err)
				}
			}); n != 0 {
				t.Errorf("%v allocations per batch, want 0", n)
			}
			svCheckGSOUsed(t, s, strings.HasPrefix(path, "gso"))
		})
	}
}

// BenchmarkUDPSinkFrame compares one send per packet with one GSO send
// per frame, for a 20-packet frame of 1400-byte packets over loopback.
func BenchmarkUDPSinkFrame(b *testing.B) {
	for _, path := range []string{"per-packet", "gso", "gso-split"} {
		b.Run(path, func(b *testing.B) {
			s, batch := svFrameFixtureSplit(b, path == "per-packet", path == "gso-split")
			b.SetBytes(int64(batch.Bytes()))
			b.ReportAllocs()
			for b.Loop() {
				if err := s.send(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch.Packets)), "ns/packet")
		})
	}
}
