package send

import (
	"net"

	"syscall"
	"unsafe"

	"github.com/actorstream/actorstream/pipeline"

	"golang.org/x/sys/unix"
)

// mmsghdr is the kernel's struct mmsghdr: a message and, after the call,
// how many bytes of it were sent. Go pads it as C does.
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
}

// udpMMsg is a UDPGatherer's sendmmsg. The messages, their iovecs and
// control messages live here, in arrays reused by every flush, rather
// than in each sink: a pass over a thousand viewers then touches the same
// few warm kilobytes instead of a cold iovec array per viewer. Only the
// destination address is the sink's (udpGSO, built once per client).
type udpMMsg struct {
	msgs   [gatherMax]mmsghdr
	errs   [gatherMax]syscall.Errno
	cmsgs  [gatherMax]gsoCmsg
	iov    [gatherMax * 2 * gsoMaxSegments]unix.Iovec
	used   int // iovecs taken by the messages added
	n      int // messages to send
	next   int // the first not sent yet
	rc     syscall.RawConn
	conn   *net.UDPConn
	write  func(fd uintptr) bool // m.sendmmsg, bound once
	broken bool
}

func (m *udpMMsg) usable() bool { return !m.broken }

// add makes message i: s's batch b, one GSO run, to s's client. It
// reports false when s cannot send with GSO (refused before, or a
// destination GSO cannot reach).
func (m *udpMMsg) add(i int, s *UDPSink, b *pipeline.Batch) bool {
	g := &s.gso
	if g.off || !g.ready(s.Conn, s.Dest) {
		return false
	}
	start := m.used
	for k := range b.Packets {
		m.used += putIov(m.iov[:], m.used, b.Packets[k])
		if b.Split() {
			m.used += putIov(m.iov[:], m.used, b.Payloads[k])
		}
	}
	c := &m.cmsgs[i]
	c.hdr.Level, c.hdr.Type = unix.SOL_UDP, unix.UDP_SEGMENT
	c.hdr.SetLen(unix.CmsgLen(2))
	c.size = uint16(b.Len(0))
	h := &m.msgs[i].hdr
	h.Name, h.Namelen = g.msg.Name, g.msg.Namelen
	h.Iov = &m.iov[start]
	h.SetIovlen(m.used - start)
	h.Control = (*byte)(unsafe.Pointer(c))
	h.SetControllen(unix.CmsgSpace(2))
	m.errs[i] = 0
	return true
}

// result is how message i, sink s's, fared (see udpGSO.send).
func (m *udpMMsg) result(i int, s *UDPSink) error {
	s.gso.errno = m.errs[i]
	return s.gso.result(s.Conn, s.Dest)
}

// send sends the first n messages, noting each one's errno; an error is
// the socket's (closed).
func (m *udpMMsg) send(conn *net.UDPConn, n int) error {
	if conn != m.conn {
		rc, err := conn.SyscallConn()
		if err != nil {
			return err
		}
		m.rc, m.conn, m.write = rc, conn, m.sendmmsg
	}
	m.n, m.next = n, 0
	err := m.rc.Write(m.write)
	clear(m.msgs[:n]) // keep no pointers into the batches
	clear(m.iov[:m.used])
	m.used = 0
	return err
}

// sendmmsg is the rc.Write callback. The kernel sends messages in order
// until one fails; that one's error comes from the next call, which
// starts with it. Returning false waits until the socket is writable.
func (m *udpMMsg) sendmmsg(fd uintptr) bool {
	for m.next < m.n {
		r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&m.msgs[m.next])), uintptr(m.n-m.next), 0, 0, 0)
		switch e {
		case 0:
			if r == 0 { // cannot happen with messages left; never spin
				m.errs[m.next] = unix.EIO
				r = 1
			}
			m.next += int(r)
		case unix.EINTR:
		case unix.EAGAIN: // the send buffer is full
			return false
		default:
			m.errs[m.next] = e
			m.next++
		}
	}
	return true
}
