package server

import (
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// TestSharedPairRTCPDemux: on a shared RTCP port, a Receiver Report
// keeps alive the session whose SSRC it reports on; a packet without
// report blocks counts for the session whose client ports sent it, or
// for the only session of its address; from anyone else it counts for
// nobody; and after unregister a session hears nothing.
func TestSharedPairRTCPDemux(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	sp, err := newSharedPorts(lo, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.close()
	pair := sp.pick()
	server := pair.rtcp.LocalAddr().(*net.UDPAddr)

	client := func() *net.UDPConn {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	a, b, stranger := client(), client(), client()
	addr := func(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }
	var actA, actB atomic.Int64
	alive := func(v *atomic.Int64) func(time.Time) { return func(now time.Time) { v.Store(now.UnixNano()) } }
	pa := &rtcpPeer{ssrc: 0xA, peer: lo, rtp: netip.AddrPortFrom(lo, 9), rtcp: addr(a), alive: alive(&actA)}
	pb := &rtcpPeer{ssrc: 0xB, peer: lo, rtp: netip.AddrPortFrom(lo, 11), rtcp: addr(b), alive: alive(&actB)}
	pair.register(pa)
	pair.register(pb)
	if sp.peers() != 2 {
		t.Fatalf("%d peers, want 2", sp.peers())
	}

	send := func(from *net.UDPConn, p rtcp.Packet) {
		t.Helper()
		raw, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := from.WriteToUDP(raw, server); err != nil {
			t.Fatal(err)
		}
	}
	waitFor := func(what string, v *atomic.Int64, want bool) {
		t.Helper()
		deadline := time.Now().Add(time.Second)
		for (v.Load() != 0) != want {
			if time.Now().After(deadline) {
				t.Fatalf("%s: activity %v, want set %v", what, v.Load(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	settle := func() { time.Sleep(50 * time.Millisecond) }

	// The stranger's report names B's SSRC: its SSRC decides, and the
	// stranger is on the same address, so it counts for B.
	send(stranger, &rtcp.ReceiverReport{SSRC: 1, Reports: []rtcp.ReceptionReport{{SSRC: 0xB}}})
	waitFor("report on B's SSRC", &actB, true)
	settle()
	if actA.Load() != 0 {
		t.Fatal("a report on B's SSRC counted for A")
	}

	// An empty report from A's RTCP port counts for A.
	actB.Store(0)
	send(a, &rtcp.ReceiverReport{SSRC: 2})
	waitFor("empty report from A's port", &actA, true)
	settle()
	if actB.Load() != 0 {
		t.Fatal("an empty report from A's port counted for B")
	}

	// From an unknown port of an address with two sessions: nobody.
	actA.Store(0)
	send(stranger, &rtcp.ReceiverReport{SSRC: 3})
	settle()
	if actA.Load() != 0 || actB.Load() != 0 {
		t.Fatal("an empty report from an unknown port counted")
	}

	// With one session left on the address, it gets the unknown port's
	// packets (clients that send RTCP from another port than announced).
	pair.unregister(pb)
	pair.unregister(pb) // twice is harmless
	send(stranger, &rtcp.ReceiverReport{SSRC: 4})
	waitFor("the only session of the address", &actA, true)
	send(stranger, &rtcp.ReceiverReport{SSRC: 5, Reports: []rtcp.ReceptionReport{{SSRC: 0xB}}})
	settle()
	if actB.Load() != 0 {
		t.Fatal("an unregistered session heard its report")
	}
	pair.unregister(pa)
	if sp.peers() != 0 {
		t.Fatalf("%d peers after unregistering both", sp.peers())
	}
}

// peers is the number of sessions registered on the pairs.
func (sp *sharedPorts) peers() int {
	n := 0
	for _, p := range sp.pairs {
		p.mu.Lock()
		n += len(p.bySSRC)
		p.mu.Unlock()
	}
	return n
}

// udpPeers is the number of sessions registered on the shared ports.
func (s *Server) udpPeers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, sp := range s.udp {
		n += sp.peers()
	}
	return n
}
