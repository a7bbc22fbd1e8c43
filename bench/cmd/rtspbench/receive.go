package main

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/ipv4"
)

// receiveUDP reads the session's RTP socket in batches (recvmmsg through
// x/net/ipv4) and hands every datagram to check, until the socket closes.
// One clock reading per batch: the packets of a batch arrived together.
// A check that names frames (live mode, our publisher) takes the kernel's
// receive time of each datagram instead (rxtime.go), where it has one.
func receiveUDP(conn *net.UDPConn, check *streamCheck) {
	pc := ipv4.NewPacketConn(conn)
	msgs := make([]ipv4.Message, 32)
	stamped := check.ids != nil && enableRxTimestamps(conn) == nil
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, 2048)}
		if stamped {
			msgs[i].OOB = make([]byte, rxOOBSize)
		}
	}
	for {
		n, err := pc.ReadBatch(msgs, 0)
		if err != nil {
			return
		}
		now := time.Now()
		for _, m := range msgs[:n] {
			at := now
			if stamped {
				if t, ok := rxTimestamp(m.OOB[:m.NN]); ok {
					at = t
				}
			}
			check.packet(m.Buffers[0][:m.N], at)
		}
	}
}

// receiveTCP reads an interleaved session's connection: "$" frames on
// channel 0 go to check (nil: discarded), RTSP responses to keepalives
// are skipped. Every TCP session must be read, or the server's queue for
// it fills.
func receiveTCP(s *rtspSession, check *streamCheck) {
	r := s.r
	hdr := make([]byte, 4)
	buf := make([]byte, 65536)
	for {
		c, err := r.Peek(1)
		if err != nil {
			return
		}
		if c[0] != '$' {
			if !skipResponse(r) {
				return
			}
			continue
		}
		if _, err := io.ReadFull(r, hdr); err != nil {
			return
		}
		n := int(hdr[2])<<8 | int(hdr[3])
		if check == nil || hdr[1] != 0 {
			if _, err := r.Discard(n); err != nil {
				return
			}
			continue
		}
		if _, err := io.ReadFull(r, buf[:n]); err != nil {
			return
		}
		check.packet(buf[:n], time.Now())
	}
}

// skipResponse reads one RTSP message (status line, headers, body).
func skipResponse(r *bufio.Reader) bool {
	length := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return false
		}
		line = strings.TrimSpace(line)
		if line == "" {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "Content-Length") {
			length, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	_, err := r.Discard(length)
	return err == nil
}
