package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"

	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
)

// The raw sender is the "physical limit" row: the same RFC 2435 packets
// as our server sends, paced at the same frame rate, to the same number
// of receivers, with no RTSP, no pipeline and nothing per packet but
// patching the sequence number and the send itself. It runs as its own
// process (rtspbench rawsend …) so /proc measures it alone.

// rawFrames packetizes every frame of an MJPEG file once.
func rawFrames(path string, mtu int) ([][][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ix, err := mjpeg.BuildIndex(bufio.NewReader(f))
	if err != nil {
		return nil, err
	}
	pk := rtpjpeg.NewPacketizer(1, 0, mtu)
	var frames [][][]byte
	var j rtpjpeg.JPEG
	for i := range ix.Len() {
		data, err := ix.ReadFrame(f, i, nil)
		if err != nil {
			return nil, err
		}
		if err := rtpjpeg.ParseJPEG(data, &j); err != nil {
			return nil, fmt.Errorf("frame %d: %w (the raw sender needs RFC 2435-carriable media)", i, err)
		}
		pk.Begin(&j, 0)
		var pkts [][]byte
		for {
			buf := make([]byte, mtu)
			n := pk.Next(buf)
			if n == 0 {
				break
			}
			pkts = append(pkts, buf[:n])
		}
		frames = append(frames, pkts)
	}
	return frames, nil
}

// rawDest is one receiver: its address and its own RTP state.
type rawDest struct {
	addr netip.AddrPort
	udp  *net.UDPAddr
	sa   unix.Sockaddr
	seq  uint16
	conn *net.UDPConn // nil: the worker's shared socket
	rc   syscall.RawConn
}

func rawSendMain(args []string) error {
	fs := flag.NewFlagSet("rawsend", flag.ExitOnError)
	media := fs.String("media", "", "raw MJPEG file")
	fps := fs.Float64("fps", 30, "frame rate")
	mtu := fs.Int("mtu", 1400, "largest RTP packet")
	method := fs.String("method", "sendmmsg", "sendto (one call per packet), sendmmsg (one call per frame), gso (one UDP_SEGMENT call per frame), gso-mmsg (one sendmmsg per 64 receivers, a UDP_SEGMENT message each)")
	perDest := fs.Bool("socket-per-dest", false, "send to each receiver from a socket of its own, as an RTSP server with a port pair per session does")
	_ = fs.Parse(args)
	frames, err := rawFrames(*media, *mtu)
	if err != nil {
		return err
	}
	// Destinations, one RTP port per line, on stdin; "go" starts sending.
	var dests []*rawDest
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "go" {
			break
		}
		ap, err := netip.ParseAddrPort(line)
		if err != nil {
			return err
		}
		a4 := ap.Addr().As4()
		dests = append(dests, &rawDest{addr: ap, udp: net.UDPAddrFromAddrPort(ap), sa: &unix.SockaddrInet4{Port: int(ap.Port()), Addr: a4}})
	}
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		var mine []*rawDest
		for i := w; i < len(dests); i += workers {
			mine = append(mine, dests[i])
		}
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return err
		}
		if *perDest {
			for _, d := range mine {
				if d.conn, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
					return err
				}
				d.rc, _ = d.conn.SyscallConn()
			}
		}
		wg.Go(func() { rawLoop(conn, *method, frames, mine, start, *fps, *mtu) })
	}
	fmt.Println("sending")
	wg.Wait()
	return nil
}

// rawLoop sends every frame to each of dests at start + n/fps, forever.
func rawLoop(conn *net.UDPConn, method string, frames [][][]byte, dests []*rawDest, start time.Time, fps float64, mtu int) {
	pc := ipv4.NewPacketConn(conn)
	rc, _ := conn.SyscallConn()
	// Per worker, one buffer per packet slot, patched per destination.
	bufs := make([][]byte, 0, 256)
	msgs := make([]ipv4.Message, 256)
	for i := range msgs {
		msgs[i].Buffers = make([][]byte, 1)
	}
	gso := make([]byte, 0, 64<<10)
	// gso-mmsg: a frame per receiver, up to gsoBatch receivers per call.
	const gsoBatch = 64
	var gsoBufs [gsoBatch][]byte
	var gsoOOB [gsoBatch][]byte
	gsoMsgs := make([]ipv4.Message, gsoBatch)
	for i := range gsoMsgs {
		gsoMsgs[i].Buffers = make([][]byte, 1)
		gsoOOB[i] = segmentCmsg()
	}
	queued := 0
	flush := func() {
		for sent := 0; sent < queued; {
			n, err := pc.WriteBatch(gsoMsgs[sent:queued], 0)
			if err != nil || n <= 0 {
				sent++ // skip the failing message
				continue
			}
			sent += n
		}
		queued = 0
	}
	oob := segmentCmsg()
	for n := 0; ; n++ {
		due := start.Add(time.Duration(float64(n) * float64(time.Second) / fps))
		time.Sleep(time.Until(due))
		pkts := frames[n%len(frames)]
		ts := uint32(float64(n) * 90000 / fps)
		for len(bufs) < len(pkts) {
			bufs = append(bufs, make([]byte, mtu))
		}
		if method == "gso-mmsg" {
			// Whole frames that fit one GSO send (the media here do).
			seg := len(pkts[0])
			for _, d := range dests {
				g := gsoBufs[queued][:0]
				for _, p := range pkts {
					at := len(g)
					g = append(g, p...)
					binary.BigEndian.PutUint16(g[at+2:], d.seq)
					binary.BigEndian.PutUint32(g[at+4:], ts)
					d.seq++
				}
				gsoBufs[queued] = g
				m := &gsoMsgs[queued]
				m.Buffers[0], m.Addr = g, d.udp
				m.OOB = nil
				if len(pkts) > 1 {
					binary.NativeEndian.PutUint16(gsoOOB[queued][unix.CmsgLen(0):], uint16(seg))
					m.OOB = gsoOOB[queued]
				}
				if queued++; queued == gsoBatch {
					flush()
				}
			}
			flush()
			continue
		}
		for _, d := range dests {
			conn, pc, rc := conn, pc, rc
			if d.conn != nil {
				conn, pc, rc = d.conn, ipv4.NewPacketConn(d.conn), d.rc
			}
			for i, p := range pkts {
				b := bufs[i][:len(p)]
				copy(b, p)
				binary.BigEndian.PutUint16(b[2:], d.seq)
				binary.BigEndian.PutUint32(b[4:], ts)
				d.seq++
				switch method {
				case "sendto":
					_, _ = conn.WriteToUDPAddrPort(b, d.addr)
				case "sendmmsg":
					msgs[i].Buffers[0] = b
					msgs[i].Addr = d.udp
				}
			}
			switch method {
			case "sendmmsg":
				_, _ = pc.WriteBatch(msgs[:len(pkts)], 0)
			case "gso":
				gso = gso[:0]
				for i, p := range pkts {
					gso = append(gso, bufs[i][:len(p)]...)
				}
				// At most 40 segments (56 000 bytes) per call: GSO takes
				// up to 64 segments and 64 KiB.
				seg := len(pkts[0])
				for off := 0; off < len(gso); off += 40 * seg {
					chunk := gso[off:min(len(gso), off+40*seg)]
					if len(chunk) <= seg {
						_, _, _ = conn.WriteMsgUDPAddrPort(chunk, nil, d.addr)
						continue
					}
					binary.NativeEndian.PutUint16(oob[unix.CmsgLen(0):], uint16(seg))
					_ = rc.Write(func(fd uintptr) bool {
						err := unix.Sendmsg(int(fd), chunk, oob, d.sa, 0)
						return err != unix.EAGAIN
					})
				}
			}
		}
	}
}

// segmentCmsg is a UDP_SEGMENT control message whose uint16 segment size
// (at CmsgLen(0)) the caller fills in per send.
func segmentCmsg() []byte {
	oob := make([]byte, unix.CmsgSpace(2))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
	h.Level, h.Type = unix.SOL_UDP, unix.UDP_SEGMENT
	h.SetLen(unix.CmsgLen(2))
	return oob
}

// rawPorts formats a destination list for the raw sender's stdin.
func rawPorts(conns []*net.UDPConn) string {
	var b strings.Builder
	for _, c := range conns {
		b.WriteString(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(c.LocalAddr().(*net.UDPAddr).Port)).String())
		b.WriteByte('\n')
	}
	return b.String()
}
