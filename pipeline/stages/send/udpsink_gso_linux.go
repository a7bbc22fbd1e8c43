package send

import (
	"net"
	"net/netip"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/actorstream/actorstream/pipeline"
)

// udpGSO sends a run of packets as one sendmsg with a UDP_SEGMENT control
// message: the kernel (or the NIC) cuts the data into gso_size datagrams,
// so a frame costs one system call instead of one per packet.
//
// Everything sendmsg reads — header, iovecs, address, control message —
// lives here and is reused, because the standard library and x/sys
// helpers that take a [][]byte or a Sockaddr allocate on every call.
type udpGSO struct {
	off  bool // the kernel refused GSO on this socket: stop trying
	conn *net.UDPConn
	rc   syscall.RawConn
	// write is g.sendmsg, bound once: a function value made per call to
	// rc.Write would escape and allocate.
	write  func(fd uintptr) bool
	family int // the socket's address family (AF_INET or AF_INET6)

	dest   netip.AddrPort // what name holds; invalid: not built yet
	destOK bool           // dest can be sent to with GSO (else errNoGSO)
	sa4    unix.RawSockaddrInet4
	sa6    unix.RawSockaddrInet6

	msg   unix.Msghdr
	cmsg  gsoCmsg
	errno syscall.Errno // result of the last sendmsg
	iovs  int           // iovecs of the prepared message
	// iov comes last: a send touches only its first few entries, so the
	// fields above stay on the cache lines every send reads anyway.
	iov [2 * gsoMaxSegments]unix.Iovec // a header and a payload per packet when split
}

// gsoCmsg is a control message carrying UDP_SEGMENT's uint16 gso_size.
// The struct's layout is that of CMSG_SPACE(2) bytes (checked by a test):
// the header is a multiple of the alignment, so the data follows it
// directly.
type gsoCmsg struct {
	hdr  unix.Cmsghdr
	size uint16
}

// send sends b's packets from..from+n (2 to gsoMaxSegments, as gsoRun
// cuts them) to dest in one system call, split packets as two iovecs. It returns errNoGSO if it did not try or the kernel
// refused GSO, an error wrapping net.ErrClosed for a closed socket, and
// other send errors (ECONNREFUSED...) as the kernel gave them; with an
// error, nothing was sent.
func (g *udpGSO) send(conn *net.UDPConn, dest netip.AddrPort, b *pipeline.Batch, from, n int) error {
	if err := g.prepare(conn, dest, b, from, n); err != nil {
		return err
	}
	g.errno = 0
	err := g.rc.Write(g.write)
	g.done()
	if err != nil {
		return err // the socket is closed (or no longer pollable)
	}
	return g.result(conn, dest)
}

// prepare builds the message that sends b's packets from..from+n to dest
// (see send) without sending it: send sends it, or a UDPGatherer with
// other sinks' messages in one sendmmsg. done must follow the send.
func (g *udpGSO) prepare(conn *net.UDPConn, dest netip.AddrPort, b *pipeline.Batch, from, n int) error {
	if g.off || !g.ready(conn, dest) {
		return errNoGSO
	}
	iovs := 0
	for k := from; k < from+n; k++ {
		iovs += g.setIov(iovs, b.Packets[k])
		if b.Split() {
			iovs += g.setIov(iovs, b.Payloads[k])
		}
	}
	g.msg.SetIovlen(iovs)
	g.iovs = iovs
	g.cmsg.size = uint16(b.Len(from))
	return nil
}

// done forgets the prepared message's iovecs: no pointers into the
// released batch are kept.
func (g *udpGSO) done() {
	clear(g.iov[:g.iovs])
	g.iovs = 0
}

// result is the error of the send whose errno is g.errno (see send).
func (g *udpGSO) result(conn *net.UDPConn, dest netip.AddrPort) error {
	switch g.errno {
	case 0:
		return nil
	case unix.EIO, unix.EINVAL, unix.ENOPROTOOPT, unix.EOPNOTSUPP, unix.EMSGSIZE:
		// What the kernel says when it will not segment: an old kernel
		// without UDP_SEGMENT (EINVAL, ENOPROTOOPT), a device or path
		// without checksum offload or with IPsec (EIO), a segment size
		// above the path MTU (EINVAL; unsegmented, the packet would be
		// fragmented instead); EMSGSIZE should not happen within the
		// limits gsoRun keeps. Per packet, the same data goes out, or
		// fails with the per-packet error.
		g.off = true
		return errNoGSO
	}
	return &net.OpError{Op: "write", Net: "udp", Source: conn.LocalAddr(),
		Addr: net.UDPAddrFromAddrPort(dest), Err: os.NewSyscallError("sendmsg", g.errno)}
}

// setIov points iovec i at p (see putIov) and says how many it set.
func (g *udpGSO) setIov(i int, p []byte) int { return putIov(g.iov[:], i, p) }

// putIov points iov[i] at p unless p is empty (a packet's parts may be;
// gsoRun never puts an empty packet in a run) and says how many iovecs
// it set. When p starts where iov[i-1] ends (a batch's whole packets lie
// back to back in its buffer) it extends that one instead: the kernel
// copies a frame from one iovec faster than from twenty.
func putIov(iov []unix.Iovec, i int, p []byte) int {
	if len(p) == 0 {
		return 0
	}
	if i > 0 {
		prev := &iov[i-1]
		if uintptr(unsafe.Pointer(prev.Base))+uintptr(prev.Len) == uintptr(unsafe.Pointer(&p[0])) {
			prev.SetLen(int(prev.Len) + len(p))
			return 0
		}
	}
	iov[i].Base = &p[0]
	iov[i].SetLen(len(p))
	return 1
}

// sendmsg is the rc.Write callback. Returning false makes the poller wait
// until the socket is writable and call it again.
func (g *udpGSO) sendmsg(fd uintptr) bool {
	for {
		_, _, e := unix.Syscall(unix.SYS_SENDMSG, fd, uintptr(unsafe.Pointer(&g.msg)), 0)
		switch e {
		case unix.EINTR:
			continue
		case unix.EAGAIN: // the send buffer is full
			return false
		}
		g.errno = e
		return true
	}
}

// ready prepares the socket state on first use (and if Conn changes) and
// the destination address when dest changes; it reports whether a GSO
// send to dest is possible.
func (g *udpGSO) ready(conn *net.UDPConn, dest netip.AddrPort) bool {
	if conn != g.conn {
		*g = udpGSO{conn: conn}
		rc, err := conn.SyscallConn()
		if err != nil {
			g.off = true
			return false
		}
		var serr error
		err = rc.Control(func(fd uintptr) {
			g.family, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN)
		})
		if err != nil || serr != nil {
			// A closed socket, most likely: the per-packet path says so.
			g.off = true
			return false
		}
		g.rc, g.write = rc, g.sendmsg
		g.cmsg.hdr.Level = unix.SOL_UDP
		g.cmsg.hdr.Type = unix.UDP_SEGMENT
		g.cmsg.hdr.SetLen(unix.CmsgLen(2))
		g.msg.Control = (*byte)(unsafe.Pointer(&g.cmsg))
		g.msg.SetControllen(unix.CmsgSpace(2))
		g.msg.Iov = &g.iov[0]
	}
	if dest != g.dest || !g.dest.IsValid() {
		g.dest, g.destOK = dest, g.setName(dest)
	}
	return g.destOK
}

// setName builds the raw socket address for dest the way
// WriteToUDPAddrPort would for this socket's family: IPv4 (or v4-mapped)
// on an IPv4 socket; IPv6, or IPv4 as v4-mapped, on an IPv6 socket.
// Anything else, and zoned (link-local) addresses, whose interface index
// would have to be looked up, are left to the per-packet path.
func (g *udpGSO) setName(dest netip.AddrPort) bool {
	a := dest.Addr()
	if !dest.IsValid() || a.Zone() != "" {
		return false
	}
	port := dest.Port()
	switch {
	case g.family == unix.AF_INET && a.Unmap().Is4():
		g.sa4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: a.Unmap().As4()}
		putPort(&g.sa4.Port, port)
		g.msg.Name = (*byte)(unsafe.Pointer(&g.sa4))
		g.msg.Namelen = unix.SizeofSockaddrInet4
	case g.family == unix.AF_INET6:
		g.sa6 = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: a.As16()} // As16 maps IPv4
		putPort(&g.sa6.Port, port)
		g.msg.Name = (*byte)(unsafe.Pointer(&g.sa6))
		g.msg.Namelen = unix.SizeofSockaddrInet6
	default:
		return false
	}
	return true
}

// putPort stores port in network byte order, whatever the CPU's order.
func putPort(p *uint16, port uint16) {
	b := (*[2]byte)(unsafe.Pointer(p))
	b[0], b[1] = byte(port>>8), byte(port)
}
