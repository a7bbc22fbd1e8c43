package server

import (
	"bytes"
	"encoding/binary"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/internal/testmedia"
)

// labClient speaks exactly as the original lab client does
// (../shared/lab-dialect.md): one write per request, LF line ends, no
// terminating blank line, and one read taken as one whole reply, parsed by
// line position.
type labClient struct {
	t       *testing.T
	nc      net.Conn
	rtp     *net.UDPConn
	file    string
	cseq    int
	session int
}

func dialLab(t *testing.T, addr, file string) *labClient {
	nc, err := net.Dial("tcp", addr)
	enginetest.Must(t, err)
	t.Cleanup(func() { nc.Close() })
	rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	enginetest.Must(t, err)
	t.Cleanup(func() { rtp.Close() })
	return &labClient{t: t, nc: nc, rtp: rtp, file: file}
}

// request sends the lab's exact bytes for method and checks the reply the
// way the lab client does.
func (c *labClient) request(method string) {
	c.t.Helper()
	c.cseq++
	line1 := method + " " + c.file + " RTSP/1.0 " // trailing space, as sent
	if method == "TEARDOWN" {
		line1 = strings.TrimSuffix(line1, " ")
	}
	line3 := "Session: " + strconv.Itoa(c.session)
	if method == "SETUP" {
		line3 = "Transport: RTP/UDP; client_port= " + strconv.Itoa(c.rtp.LocalAddr().(*net.UDPAddr).Port)
	}
	if _, err := c.nc.Write([]byte(line1 + "\nCSeq: " + strconv.Itoa(c.cseq) + "\n" + line3)); err != nil {
		c.t.Fatal(err)
	}
	buf := make([]byte, 1024)
	_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.nc.Read(buf)
	if err != nil {
		c.t.Fatalf("%s: no reply: %v", method, err)
	}
	lines := strings.Split(string(buf[:n]), "\n")
	if len(lines) < 3 {
		c.t.Fatalf("%s: reply %q has fewer than 3 lines", method, buf[:n])
	}
	field := func(i int) int {
		parts := strings.Split(lines[i], " ")
		if len(parts) < 2 {
			c.t.Fatalf("%s: reply line %d %q has no second token", method, i, lines[i])
		}
		v, err := strconv.Atoi(strings.TrimSpace(parts[1]))
		if err != nil {
			c.t.Fatalf("%s: reply line %d %q: %v (the lab client would die here)", method, i, lines[i], err)
		}
		return v
	}
	if code := field(0); code != 200 {
		c.t.Fatalf("%s: status %d in %q", method, code, buf[:n])
	}
	if cseq := field(1); cseq != c.cseq {
		c.t.Fatalf("%s: CSeq %d, want %d", method, cseq, c.cseq)
	}
	session := field(2)
	if c.session == 0 {
		c.session = session
	} else if session != c.session {
		c.t.Fatalf("%s: session %d, want %d", method, session, c.session)
	}
}

// frames reads n datagrams, checks each bare 12-byte RTP header and
// returns the payloads.
func (c *labClient) frames(n int) (seqs []uint16, jpegs [][]byte) {
	c.t.Helper()
	buf := make([]byte, 20480) // the lab client's read size
	for len(seqs) < n {
		_ = c.rtp.SetReadDeadline(time.Now().Add(2 * time.Second))
		k, err := c.rtp.Read(buf)
		if err != nil {
			c.t.Fatalf("after %d frames: %v", len(seqs), err)
		}
		p := buf[:k]
		if p[0] != 0x80 || p[1] != 26 || binary.BigEndian.Uint32(p[8:]) != 0 {
			c.t.Fatalf("header % x: want V=2 no CSRC, M=0 PT=26, SSRC 0", p[:12])
		}
		if ts := int64(binary.BigEndian.Uint32(p[4:])); ts < time.Now().Unix()-5 || ts > time.Now().Unix()+1 {
			c.t.Fatalf("timestamp %d is not wall-clock seconds", ts)
		}
		// Callers compare payloads with the file's frames byte for byte.
		img := append([]byte(nil), p[12:]...)
		seqs = append(seqs, binary.BigEndian.Uint16(p[2:]))
		jpegs = append(jpegs, img)
	}
	return seqs, jpegs
}

func (c *labClient) quiet(d time.Duration) bool {
	buf := make([]byte, 20480)
	_ = c.rtp.SetReadDeadline(time.Now().Add(d))
	_, err := c.rtp.Read(buf)
	return err != nil
}

func TestLabDialectSession(t *testing.T) {
	ts := startServer(t, Config{FPS: 50})
	file := "lab.mjpeg"
	want := enginetest.FileFrames(t, filepath.Join(ts.dir, file))
	c := dialLab(t, ts.addr, file)

	c.request("SETUP")
	c.request("PLAY")
	seqs, got := c.frames(10)
	for i := range seqs {
		if seqs[i] != uint16(i+1) {
			t.Fatalf("frame %d has seq %d; the lab numbers frames from 1", i, seqs[i])
		}
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("frame %d differs from the file's", i)
		}
	}
	c.request("PAUSE")
	// Whatever was sent before the reply is queued already; then silence.
	for !c.quiet(100 * time.Millisecond) {
	}
	if !c.quiet(300 * time.Millisecond) {
		t.Fatal("frames after PAUSE was answered")
	}
	c.request("PLAY")
	more, _ := c.frames(1)
	if more[0] <= seqs[len(seqs)-1] {
		t.Fatalf("seq after resume %d, before %d: must keep growing", more[0], seqs[len(seqs)-1])
	}
	c.request("TEARDOWN")
	for !c.quiet(100 * time.Millisecond) {
	}
	if !c.quiet(300 * time.Millisecond) {
		t.Fatal("frames after TEARDOWN")
	}
}

// TestLabDialectMovie plays the lab's own 4:4:4 file to a lab client: it
// gets the file's bytes, not a re-encoded copy.
func TestLabDialectMovie(t *testing.T) {
	movie := testmedia.LabMovie()
	data, err := os.ReadFile(movie)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("lab movie missing in CI: %v", err)
		}
		t.Skip("lab movie not present")
	}
	ts := startServer(t, Config{FPS: 50})
	enginetest.Must(t, os.WriteFile(filepath.Join(ts.dir, "movie.Mjpeg"), data, 0o644))
	want := enginetest.FileFrames(t, filepath.Join(ts.dir, "movie.Mjpeg"))
	c := dialLab(t, ts.addr, "movie.Mjpeg")
	c.request("SETUP")
	c.request("PLAY")
	seqs, got := c.frames(300) // past the original server's 255-frame limit
	// The lab's sequence number is the frame's number from 1: it says which
	// frame a datagram holds even if a loaded machine dropped one before it
	// (UDP, even on loopback, when the reader falls behind).
	for i := range got {
		idx := int(seqs[i]) - 1
		if i > 0 && seqs[i] <= seqs[i-1] {
			t.Fatalf("sequence %d after %d", seqs[i], seqs[i-1])
		}
		if idx < 0 || idx >= len(want) || !bytes.Equal(got[i], want[idx]) {
			t.Fatalf("datagram %d (sequence %d) is not the file's frame %d", i, seqs[i], idx)
		}
	}
	c.request("TEARDOWN")
}
