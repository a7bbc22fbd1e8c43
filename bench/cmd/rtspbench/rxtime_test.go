package main

import (
	"net"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
)

// TestRxTimestamp: with timestamps on, every datagram read in a batch
// carries the kernel's receive time, the time it was sent rather than
// the time it was read.
func TestRxTimestamp(t *testing.T) {
	rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	if err := enableRxTimestamps(rx); err != nil {
		t.Fatal(err)
	}
	tx, err := net.DialUDP("udp4", nil, rx.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	msgs := make([]ipv4.Message, 8)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, 64)}
		msgs[i].OOB = make([]byte, rxOOBSize)
	}
	pc := ipv4.NewPacketConn(rx)
	_ = rx.SetReadDeadline(time.Now().Add(5 * time.Second))
	// The kernel turns receive stamping on for the machine a moment after
	// the first socket asks (a deferred static key): until then it stamps
	// datagrams when they are read. Wait for a datagram stamped before.
	for probed := false; !probed; {
		if _, err := tx.Write([]byte("probe")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond)
		n, err := pc.ReadBatch(msgs, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs[:n] {
			if ts, ok := rxTimestamp(m.OOB[:m.NN]); ok && time.Since(ts) > 20*time.Millisecond {
				probed = true
			}
		}
	}
	var sent []time.Time
	for range 3 {
		sent = append(sent, time.Now())
		if _, err := tx.Write([]byte("datagram")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(150 * time.Millisecond) // read well after the sends: 150 ms and more
	got := 0
	for got < 3 {
		n, err := pc.ReadBatch(msgs, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs[:n] {
			ts, ok := rxTimestamp(m.OOB[:m.NN])
			if !ok {
				t.Fatalf("datagram %d: no timestamp in % x", got, m.OOB[:m.NN])
			}
			if d := ts.Sub(sent[got]); d < -time.Millisecond || d > 50*time.Millisecond {
				t.Errorf("datagram %d: stamped %v after its send, want about 0", got, d)
			}
			got++
		}
	}
	if _, ok := rxTimestamp(nil); ok {
		t.Error("a timestamp in no ancillary data")
	}
	if _, ok := rxTimestamp(make([]byte, rxOOBSize)); ok {
		t.Error("a timestamp in zeroed ancillary data")
	}
}
