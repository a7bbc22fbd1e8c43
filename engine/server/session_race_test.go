package server

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/actorstream/actorstream/internal/rtsp"
)

// TestSessionStormKeepsRTPInfoTrue plays 100 UDP sessions at once (the
// shared Scheduler path: media in memory, RFC 2435 over UDP) and has each
// client storm its session with PLAY, PAUSE, PLAY with a Range (a seek)
// and GET_PARAMETER, in random order and at random moments, for 10 s (2 s
// with -short). It reads every RTP packet the session sends and checks
// that what the server says agrees with what it sent:
//
//   - the RTP-Info of a PLAY that starts a pipeline (from Ready, or a
//     seek) names the first packet that pipeline sent: its seq is 1 + the
//     last sequence number received before it, its rtptime that packet's
//     timestamp, one frame after the last one sent (the RTP clock runs on
//     across pause and seek);
//   - the RTP-Info seq of a PLAY while playing lies between the last packet
//     received when it was asked and the packets the server then sends;
//   - no packet is lost, duplicated or numbered out of turn;
//   - the position (Range) never goes backwards except on a seek, and a
//     seek starts at the frame asked for.
//
// Under -race it also catches any read of a pipeline's state (the
// packetizer's next sequence number, say) from the session actor while
// the pipeline's goroutines write it.
func TestSessionStormKeepsRTPInfoTrue(t *testing.T) {
	const sessions, fps = 100, 25
	storm := 10 * time.Second
	if testing.Short() {
		storm = 2 * time.Second
	}
	ts := startServer(t, Config{FPS: fps, Loop: true})
	clients := make([]*stormClient, sessions)
	for i := range clients {
		clients[i] = newStormClient(t, ts, i)
	}
	var wg sync.WaitGroup
	errs := make(chan error, sessions)
	until := time.Now().Add(storm)
	for _, c := range clients {
		wg.Go(func() {
			if err := c.run(until, fps); err != nil {
				errs <- fmt.Errorf("session %d: %w", c.index, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var ops, packets int
	for _, c := range clients {
		ops += c.ops
		packets += c.received()
	}
	t.Logf("%d sessions: %d requests, %d RTP packets checked", sessions, ops, packets)
	if n := ts.srv.Sessions(); n != 0 {
		t.Errorf("Sessions() = %d after every session was torn down", n)
	}
}

// stormClient is one session of the storm: an RTSP connection and the
// RTP socket whose every packet it logs in arrival order.
type stormClient struct {
	index int
	url   string
	nc    net.Conn
	r     *rtsp.Reader
	cseq  int
	id    string
	rtp   *net.UDPConn
	rng   *rand.Rand
	ops   int

	mu      sync.Mutex
	arrived []arrival
	more    chan struct{} // signalled after each arrival
	readErr error
	stopped chan struct{}
}

type arrival struct {
	seq uint16
	ts  uint32
}

func newStormClient(t *testing.T, ts *testServer, index int) *stormClient {
	t.Helper()
	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	rtpConn, _ := udpPair(t)
	_ = rtpConn.SetReadBuffer(1 << 20)
	c := &stormClient{index: index, url: ts.url("clip.mjpeg"), nc: nc, r: rtsp.NewReader(nc), rtp: rtpConn,
		rng: rand.New(rand.NewPCG(uint64(index), 2026)), more: make(chan struct{}, 1), stopped: make(chan struct{})}
	go c.read()
	port := rtpConn.LocalAddr().(*net.UDPAddr).Port
	resp, err := c.do("SETUP", ts.url("clip.mjpeg/trackID=0"), fmt.Sprintf("Transport: RTP/AVP;unicast;client_port=%d-%d", port, port+1))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("SETUP: %v %v", resp, err)
	}
	s, err := rtsp.ParseSession(resp.Header.Get("Session"))
	if err != nil {
		t.Fatal(err)
	}
	c.id = s.ID
	return c
}

// read logs every RTP packet until the socket is closed.
func (c *stormClient) read() {
	defer close(c.stopped)
	buf := make([]byte, 2048)
	for {
		n, err := c.rtp.Read(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				c.mu.Lock()
				c.readErr = err
				c.mu.Unlock()
			}
			return
		}
		if n < 12 {
			continue
		}
		c.mu.Lock()
		c.arrived = append(c.arrived, arrival{seq: binary.BigEndian.Uint16(buf[2:]), ts: binary.BigEndian.Uint32(buf[4:])})
		c.mu.Unlock()
		select {
		case c.more <- struct{}{}:
		default:
		}
	}
}

func (c *stormClient) received() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.arrived)
}

// last is the number of packets received and the last of them.
func (c *stormClient) last() (int, arrival) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.arrived) == 0 {
		return 0, arrival{}
	}
	return len(c.arrived), c.arrived[len(c.arrived)-1]
}

// waitFor waits for the packet numbered seq at or after position from of
// the log, and returns its position.
func (c *stormClient) waitFor(seq uint16, from int) (int, error) {
	deadline := time.After(10 * time.Second)
	for {
		c.mu.Lock()
		for i := max(from, 0); i < len(c.arrived); i++ {
			if c.arrived[i].seq == seq {
				c.mu.Unlock()
				return i, nil
			}
		}
		n := len(c.arrived)
		c.mu.Unlock()
		select {
		case <-c.more:
		case <-deadline:
			return 0, fmt.Errorf("packet %d never arrived (%d packets received)", seq, n)
		}
	}
}

func (c *stormClient) do(method, url string, headers ...string) (*rtsp.Response, error) {
	c.cseq++
	c.ops++
	req := fmt.Sprintf("%s %s RTSP/1.0\r\nCSeq: %d\r\n", method, url, c.cseq)
	if c.id != "" {
		req += "Session: " + c.id + "\r\n"
	}
	for _, h := range headers {
		req += h + "\r\n"
	}
	_ = c.nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.nc.Write([]byte(req + "\r\n")); err != nil {
		return nil, err
	}
	for {
		msg, err := c.r.ReadMessage()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", method, err)
		}
		if resp, ok := msg.(*rtsp.Response); ok {
			if cseq, _ := resp.CSeq(); cseq != strconv.Itoa(c.cseq) {
				return nil, fmt.Errorf("%s: response CSeq %s, want %d", method, cseq, c.cseq)
			}
			return resp, nil
		}
	}
}

// play sends PLAY (with a Range when seek ≥ 0) and returns RTP-Info's seq
// and rtptime and the Range's start.
func (c *stormClient) play(seek float64) (seq uint16, rtpTime uint32, from float64, err error) {
	var headers []string
	if seek >= 0 {
		headers = append(headers, fmt.Sprintf("Range: npt=%.3f-", seek))
	}
	resp, err := c.do("PLAY", c.url, headers...)
	if err != nil {
		return 0, 0, 0, err
	}
	if resp.StatusCode != 200 {
		return 0, 0, 0, fmt.Errorf("PLAY: status %d", resp.StatusCode)
	}
	infos, err := rtsp.ParseRTPInfo(resp.Header.Get("RTP-Info"))
	if err != nil || len(infos) != 1 || infos[0].NoSeq || infos[0].NoRTPTime {
		return 0, 0, 0, fmt.Errorf("PLAY: RTP-Info %q: %v", resp.Header.Get("RTP-Info"), err)
	}
	rg, err := rtsp.ParseRange(resp.Header.Get("Range"))
	if err != nil || !rg.HasStart {
		return 0, 0, 0, fmt.Errorf("PLAY: Range %q: %v", resp.Header.Get("Range"), err)
	}
	return infos[0].Seq, infos[0].RTPTime, rg.Start, nil
}

// run storms the session until the deadline or the first inconsistency,
// then tears it down and checks the whole log.
func (c *stormClient) run(until time.Time, fps float64) error {
	err := c.storm(until, fps)
	if resp, terr := c.do("TEARDOWN", c.url); err == nil && (terr != nil || resp.StatusCode != 200) {
		err = fmt.Errorf("TEARDOWN: %v %v", resp, terr)
	}
	// TEARDOWN is answered once the session has stopped sending. Packets
	// still on their way when the socket closes are lost from the end of
	// the log only, which the check below allows.
	c.rtp.Close()
	<-c.stopped
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.readErr != nil {
		return c.readErr
	}
	for i := 1; i < len(c.arrived); i++ {
		if prev, got := c.arrived[i-1].seq, c.arrived[i].seq; got != prev+1 {
			return fmt.Errorf("packet %d of %d is numbered %d after %d: lost, repeated or misnumbered", i, len(c.arrived), got, prev)
		}
	}
	return nil
}

// storm sends random requests until the deadline and checks each answer.
func (c *stormClient) storm(until time.Time, fps float64) error {
	frame := uint32(90000 / fps) // RTP clock ticks per frame
	playing := false
	lastFrom := 0.0
	var startSeq uint16 // first packet of the running pipeline
	var startIdx int    // its place in the log

	// started checks a PLAY that started a pipeline: its first packet is
	// seq, stamped rtpTime, right after the last packet of the previous
	// one, one frame later on the RTP clock.
	started := func(seq uint16, rtpTime uint32, mark int) error {
		i, err := c.waitFor(seq, mark)
		if err != nil {
			return err
		}
		startIdx = i
		c.mu.Lock()
		got := c.arrived[i]
		var prev arrival
		if i > 0 {
			prev = c.arrived[i-1]
		}
		c.mu.Unlock()
		if got.ts != rtpTime {
			return fmt.Errorf("RTP-Info seq=%d;rtptime=%d, but packet %d has timestamp %d", seq, rtpTime, seq, got.ts)
		}
		if i > 0 && prev.seq+1 != seq {
			return fmt.Errorf("RTP-Info seq=%d, but the last packet received before it was %d", seq, prev.seq)
		}
		if i > 0 && got.ts-prev.ts != frame {
			return fmt.Errorf("first packet of a PLAY stamped %d, the last before it %d: the RTP clock skipped", got.ts, prev.ts)
		}
		return nil
	}

	for time.Now().Before(until) {
		time.Sleep(time.Duration(c.rng.IntN(60)) * time.Millisecond)
		// Playing: 10% seek, 20% PLAY, 40% PAUSE, 30% GET_PARAMETER.
		// Ready: 30% PLAY (half of them with a Range), 40% PAUSE (455),
		// 30% GET_PARAMETER.
		op := c.rng.IntN(10)
		switch {
		case !playing && op < 3, playing && op < 1: // PLAY from Ready, or a seek
			seek := -1.0
			if playing || c.rng.IntN(2) == 0 {
				seek = float64(c.rng.IntN(4000)) / 1000
			}
			mark, _ := c.last()
			seq, rtpTime, from, err := c.play(seek)
			if err != nil {
				return err
			}
			if seek >= 0 {
				// The frame nearest the position asked for (Range carries
				// milliseconds).
				if f := from * fps; math.Abs(f-math.Round(f)) > 0.001*fps || math.Abs(from-seek) > 0.5/fps+0.0005 {
					return fmt.Errorf("seek to %.3f s started at %.3f s, not the nearest frame", seek, from)
				}
			} else if from < lastFrom {
				return fmt.Errorf("PLAY went back from %.3f s to %.3f s", lastFrom, from)
			}
			lastFrom, playing, startSeq = from, true, seq
			if c.rng.IntN(3) == 0 {
				// At once, likely before the first packet: PLAY while
				// playing must describe the packet about to go out.
				again, _, from, err := c.play(-1)
				if err != nil {
					return err
				}
				if int16(again-seq) < 0 || from < lastFrom {
					return fmt.Errorf("PLAY right after PLAY (seq %d at %.3f s) answered seq %d at %.3f s", seq, lastFrom, again, from)
				}
				lastFrom = from
			}
			if err := started(seq, rtpTime, mark); err != nil {
				return err
			}
		case playing && op < 3: // PLAY while playing, without a Range
			// The answer is the packet about to go out: one after the
			// last the sink recorded as sent. That was sent, so it
			// arrives; it may arrive before the sink has recorded it, so
			// the answer may lag what the client has seen, but never
			// precede the pipeline's first packet.
			seq, _, from, err := c.play(-1)
			if err != nil {
				return err
			}
			if from < lastFrom {
				return fmt.Errorf("PLAY while playing went back from %.3f s to %.3f s", lastFrom, from)
			}
			lastFrom = from
			if int16(seq-startSeq) < 0 {
				return fmt.Errorf("PLAY while playing answered seq %d; the pipeline started at %d", seq, startSeq)
			}
			if seq != startSeq {
				if _, err := c.waitFor(seq-1, startIdx); err != nil {
					return fmt.Errorf("PLAY while playing answered seq %d: %w", seq, err)
				}
			}
		case op < 7:
			resp, err := c.do("PAUSE", c.url)
			if err != nil {
				return err
			}
			want := 200
			if !playing {
				want = 455 // RFC 2326 §A.1: no PAUSE from Ready
			}
			if resp.StatusCode != want {
				return fmt.Errorf("PAUSE (playing %v): status %d, want %d", playing, resp.StatusCode, want)
			}
			playing = false
		default:
			resp, err := c.do("GET_PARAMETER", c.url)
			if err != nil {
				return err
			}
			if s, _ := rtsp.ParseSession(resp.Header.Get("Session")); resp.StatusCode != 200 || s.ID != c.id {
				return fmt.Errorf("GET_PARAMETER: status %d, session %q", resp.StatusCode, resp.Header.Get("Session"))
			}
		}
	}
	return nil
}
