// Package labserver is a test double of the original lab's Server.py: it
// behaves on the wire as lab-dialect.md (in the shared folder) describes,
// byte for byte, so tests can check that our client plays from it.
package labserver

import (
	"encoding/binary"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server behaves on the wire as the original lab server:
// each read of up to 256 bytes is one request, split on LF by single
// spaces; only SETUP/PLAY/PAUSE/TEARDOWN in the right state get the one
// reply it knows, "RTSP/1.0 200 OK\nCSeq: N\nSession: ID" with no final
// newline; everything else (OPTIONS, DESCRIBE…) is silently ignored; RTP
// goes to the TCP peer's address at client_port from a fresh socket per
// PLAY, one whole JPEG per datagram, sequence number = frame number from 1,
// timestamp = wall-clock seconds, SSRC 0; frames 256 and up are never sent.
type Server struct {
	frames [][]byte
	period time.Duration
	ln     net.Listener

	mu       sync.Mutex
	requests []string // request methods in arrival order
	sent     int      // datagrams sent, all sessions
}

// Start listens on 127.0.0.1 and serves frames, one every period, until
// the test ends.
func Start(t testing.TB, frames [][]byte, period time.Duration) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{frames: frames, period: period, ln: ln}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { s.serve(nc) })
		}
	})
	return s
}

// Port is the TCP port it listens on (on 127.0.0.1).
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Addr is its listening address, host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Methods lists the methods of the requests it read, in order.
func (s *Server) Methods() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// FramesSent counts the datagrams it sent, over all sessions.
func (s *Server) FramesSent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent
}

func (s *Server) serve(nc net.Conn) {
	defer nc.Close()
	const (
		initState = iota
		ready
		playing
	)
	state, session, clientPort, frameNo := initState, 0, 0, 0
	played := false
	var stop chan struct{}
	var sender sync.WaitGroup
	defer func() {
		if stop != nil {
			close(stop)
		}
		sender.Wait()
	}()
	peer := nc.RemoteAddr().(*net.TCPAddr).IP
	buf := make([]byte, 256)
	for {
		n, err := nc.Read(buf)
		if err != nil {
			return // (the original spins here forever; we just stop)
		}
		lines := strings.Split(string(buf[:n]), "\n")
		words := strings.Split(lines[0], " ")
		if len(lines) < 2 || len(words) < 2 {
			return // "the worker crashes": the connection is closed
		}
		method := words[0]
		s.mu.Lock()
		s.requests = append(s.requests, method)
		s.mu.Unlock()
		cseqWords := strings.Split(lines[1], " ")
		if len(cseqWords) < 2 {
			return
		}
		reply := func() {
			nc.Write([]byte("RTSP/1.0 200 OK\nCSeq: " + cseqWords[1] + "\nSession: " + strconv.Itoa(session)))
		}
		switch {
		case method == "SETUP" && state == initState:
			session = 100000 + int(time.Now().UnixNano()%900000)
			reply()
			if len(lines) < 3 {
				return
			}
			pieces := strings.Split(lines[2], " ")
			if len(pieces) < 4 {
				return
			}
			clientPort, _ = strconv.Atoi(strings.TrimSpace(pieces[3]))
			state = ready
		case method == "PLAY" && state == ready:
			state, played = playing, true
			conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				return
			}
			stop = make(chan struct{})
			reply()
			sender.Add(1)
			go func(stop chan struct{}, start int) {
				defer sender.Done()
				defer conn.Close()
				dest := &net.UDPAddr{IP: peer, Port: clientPort}
				for i := start; ; i++ {
					select {
					case <-stop:
						return
					case <-time.After(s.period):
					}
					if i >= len(s.frames) || i+1 > 255 {
						continue // end of file, or the frame-256 bug: nothing is sent
					}
					pkt := make([]byte, 12+len(s.frames[i]))
					pkt[0], pkt[1] = 0x80, 26
					binary.BigEndian.PutUint16(pkt[2:], uint16(i+1))
					binary.BigEndian.PutUint32(pkt[4:], uint32(time.Now().Unix()))
					copy(pkt[12:], s.frames[i])
					conn.WriteToUDP(pkt, dest)
					s.mu.Lock()
					frameNo = i + 1
					s.sent++
					s.mu.Unlock()
				}
			}(stop, frameNo)
		case method == "PAUSE" && state == playing:
			close(stop)
			sender.Wait()
			stop = nil
			state = ready
			reply()
		case method == "TEARDOWN" && (state == ready || state == playing):
			if !played {
				return // the original crashes here
			}
			if stop != nil {
				close(stop)
				sender.Wait()
				stop = nil
			}
			reply()
		default:
			// ignored, no reply, connection still usable
		}
	}
}
