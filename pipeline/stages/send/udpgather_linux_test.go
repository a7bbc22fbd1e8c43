package send

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// TestUDPGathererSendsEverySink: the batches of 70 sinks sharing one
// socket, gathered and flushed (two sendmmsg rounds: 64, then 6), reach
// every client whole and in order; each sink counts what it sent and
// sends its first Sender Report; a batch GSO cannot send in one message
// is refused (its sink sends it itself).
func TestUDPGathererSendsEverySink(t *testing.T) {
	conn := svListenUDP(t)
	g := &UDPGatherer{Conn: conn}
	const sinks = 70
	sizes := svSizes(5, 1000, 300)
	type client struct {
		sink    *UDPSink
		stats   *SendStats
		collect func() [][]byte
		rtcp    func() [][]byte
	}
	clients := make([]client, sinks)
	for i := range clients {
		rx, rtcpRx := svListenUDP(t), svListenUDP(t)
		stats := &SendStats{}
		clients[i] = client{
			sink: &UDPSink{Conn: conn, Dest: svAddr(rx), RTCPConn: conn, RTCPDest: svAddr(rtcpRx), SSRC: uint32(i + 1),
				Sent: stats, Gather: g},
			stats: stats, collect: svCollect(t, rx, len(sizes)), rtcp: svCollect(t, rtcpRx, 1),
		}
	}
	ctx, now := context.Background(), time.Now()
	for i, c := range clients {
		if c.sink.Gatherer() != g {
			t.Fatal("the sink does not offer its gatherer")
		}
		if !g.Gather(ctx, c.sink, svSizedBatch(i, sizes...), now) {
			t.Fatalf("sink %d's batch was not gathered", i)
		}
	}
	if err := g.Flush(now); err != nil {
		t.Fatal(err)
	}
	for i, c := range clients {
		want := svSizedBatch(i, sizes...)
		got := c.collect()
		for k, pkt := range got {
			if !bytes.Equal(pkt, want.Packets[k]) {
				t.Fatalf("client %d packet %d differs", i, k)
			}
		}
		if n := c.stats.Packets.Load(); n != uint64(len(sizes)) {
			t.Fatalf("sink %d counted %d packets, want %d", i, n, len(sizes))
		}
		if st := c.sink.Stats(); st.Packets != uint64(len(sizes)) {
			t.Fatalf("sink %d stats: %+v", i, st)
		}
		if sr := c.rtcp(); len(sr) != 1 {
			t.Fatalf("sink %d sent no Sender Report", i)
		}
		svCheckGSOUsed(t, c.sink, true)
	}
	// Two runs (a packet bigger than the first ends the run): not one
	// message, refused.
	if g.Gather(ctx, clients[0].sink, svSizedBatch(0, 500, 1000), now) {
		t.Fatal("a batch of two GSO runs was gathered")
	}
	if g.Gather(ctx, &UDPSink{Conn: svListenUDP(t), Dest: svAddr(conn), Sent: &SendStats{}}, svSizedBatch(0, sizes...), now) {
		t.Fatal("a sink of another socket was gathered")
	}
}

// TestUDPGathererAllocatesNothing: gathering and flushing 64 sinks'
// batches allocates nothing.
func TestUDPGathererAllocatesNothing(t *testing.T) {
	conn := svListenUDP(t)
	rx := svListenUDP(t)
	g := &UDPGatherer{Conn: conn}
	pool := pipeline.NewBatchPool(gatherMax)
	var sinks []*UDPSink
	for range gatherMax {
		sinks = append(sinks, &UDPSink{Conn: conn, Dest: svAddr(rx), Sent: &SendStats{}, Gather: g})
	}
	src := svSizedBatch(0, svSizes(3, 200, 100)...)
	ctx := context.Background()
	round := func() {
		now := time.Now()
		for _, s := range sinks {
			b := pool.Get()
			for _, p := range src.Packets {
				copy(b.Slot(len(p)), p)
				b.Commit(len(p))
			}
			if !g.Gather(ctx, s, b, now) {
				t.Fatal("not gathered")
			}
		}
		if err := g.Flush(now); err != nil {
			t.Fatal(err)
		}
	}
	round()
	if n := testing.AllocsPerRun(50, round); n != 0 {
		t.Fatalf("%v allocations per round of %d sinks", n, gatherMax)
	}
}
