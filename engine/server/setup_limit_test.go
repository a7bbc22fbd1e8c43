package server

import (
	"fmt"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actorstream/actorstream/internal/rtsp"
)

// TestConcurrentSetupsRespectMaxSessions: 50 clients SETUP at the same
// moment against MaxSessions 10, over and over with teardowns between the
// rounds. Exactly 10 get 200 each round and the other 40 get 453 (no
// session ends during a round, so no place frees up), Sessions() never
// exceeds 10 while they race (a poller watches it), SETUPs that fail
// after their place was reserved (a transport the server cannot open)
// give it back, and once every session is torn down the count is 0
// again.
func TestConcurrentSetupsRespectMaxSessions(t *testing.T) {
	const limit, clients, rounds = 10, 50, 5
	ts := startServer(t, Config{MaxSessions: limit})

	var peak atomic.Int64
	stop := make(chan struct{})
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		for {
			if n := int64(ts.srv.Sessions()); n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-stop:
				return
			default:
				runtime.Gosched()
			}
		}
	}()

	for round := range rounds {
		conns := make([]net.Conn, clients)
		readers := make([]*rtsp.Reader, clients)
		for i := range conns {
			nc, err := net.Dial("tcp", ts.addr)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { nc.Close() })
			conns[i], readers[i] = nc, rtsp.NewReader(nc)
		}
		// A few clients per round offer a transport the server refuses
		// only after reserving a place (UDP without client ports).
		refused := func(i int) bool { return i%10 == 9 }
		start := make(chan struct{})
		statuses := make([]int, clients)
		sessions := make([]string, clients)
		var wg sync.WaitGroup
		for i := range clients {
			wg.Go(func() {
				transport := "RTP/AVP/TCP;unicast;interleaved=0-1"
				switch {
				case refused(i):
					transport = "RTP/AVP;unicast"
				case i%2 == 0:
					transport = "RTP/AVP;unicast;client_port=" + strconv.Itoa(20000+2*i) + "-" + strconv.Itoa(20001+2*i)
				}
				req := fmt.Sprintf("SETUP %s RTSP/1.0\r\nCSeq: 1\r\nTransport: %s\r\n\r\n", ts.url("clip.mjpeg/trackID=0"), transport)
				<-start
				resp, err := roundTrip(conns[i], readers[i], req)
				if err != nil {
					t.Errorf("round %d client %d: %v", round, i, err)
					return
				}
				statuses[i] = resp.StatusCode
				sessions[i] = resp.Header.Get("Session")
			})
		}
		close(start)
		wg.Wait()

		ok, full, reserved := 0, 0, 0
		for i, code := range statuses {
			switch {
			case refused(i) && code == 461:
				reserved++ // held a place for a moment
			case refused(i) && code == 453:
			case refused(i):
				t.Errorf("round %d client %d (no client ports): status %d, want 461 (or 453 when full)", round, i, code)
			case code == 200:
				ok++
			case code == 453:
				full++
			default:
				t.Errorf("round %d client %d: status %d", round, i, code)
			}
		}
		// Every place is taken by the end of the round, except those a
		// refused SETUP held while others were turned away.
		if ok > limit || ok < limit-reserved || ok+full != clients-clients/10 {
			t.Fatalf("round %d: %d × 200 and %d × 453 (%d refused after reserving), want %d × 200 (at least %d) and the rest 453",
				round, ok, full, reserved, limit, limit-reserved)
		}
		if n := ts.srv.Sessions(); n != ok {
			t.Fatalf("round %d: Sessions() = %d after %d successful SETUPs", round, n, ok)
		}
		for i, raw := range sessions {
			if statuses[i] != 200 {
				continue
			}
			s, err := rtsp.ParseSession(raw)
			if err != nil {
				t.Fatal(err)
			}
			req := fmt.Sprintf("TEARDOWN %s RTSP/1.0\r\nCSeq: 2\r\nSession: %s\r\n\r\n", ts.url("clip.mjpeg"), s.ID)
			if resp, err := roundTrip(conns[i], readers[i], req); err != nil || resp.StatusCode != 200 {
				t.Fatalf("round %d client %d TEARDOWN: %v %v", round, i, resp, err)
			}
		}
		// TEARDOWN is answered once the session has given its place back.
		if n := ts.srv.Sessions(); n != 0 {
			t.Fatalf("round %d: Sessions() = %d after every TEARDOWN", round, n)
		}
		for _, nc := range conns {
			nc.Close()
		}
	}
	close(stop)
	<-polled
	if p := peak.Load(); p > limit {
		t.Fatalf("Sessions() reached %d, over MaxSessions %d", p, limit)
	}
}

// roundTrip sends one request and reads its response, skipping
// interleaved data.
func roundTrip(nc net.Conn, r *rtsp.Reader, req string) (*rtsp.Response, error) {
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write([]byte(req)); err != nil {
		return nil, err
	}
	for {
		msg, err := r.ReadMessage()
		if err != nil {
			return nil, err
		}
		if resp, ok := msg.(*rtsp.Response); ok {
			return resp, nil
		}
	}
}
