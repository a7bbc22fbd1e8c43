package send

import (
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsghdr is the kernel's struct mmsghdr: a message and, after the call,
// how many bytes of it were sent. Go pads it as C does.
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
}

// udpMMsg is a UDPGatherer's sendmmsg: its messages are copies of the
// sinks' prepared GSO messages (udpGSO.prepare), whose iovecs, addresses
// and control messages stay in the sinks.
type udpMMsg struct {
	msgs   [gatherMax]mmsghdr
	errs   [gatherMax]syscall.Errno
	n      int // messages to send
	next   int // the first not sent yet
	rc     syscall.RawConn
	conn   *net.UDPConn
	write  func(fd uintptr) bool // m.sendmmsg, bound once
	broken bool
}

func (m *udpMMsg) usable() bool { return !m.broken }

func (m *udpMMsg) add(i int, g *udpGSO) {
	m.msgs[i] = mmsghdr{hdr: g.msg}
	m.errs[i] = 0
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
	clear(m.msgs[:n]) // keep no pointers into the sinks' buffers
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
