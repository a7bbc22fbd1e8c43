package main

import (
	"net"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Kernel receive timestamps (SO_TIMESTAMPNS) for the checked readers of
// a live server: the time each datagram reached the reader's socket, so
// that the added latency is the server's alone and not also the load
// generator's own wait for a core (it runs niced, on a busy machine).

// enableRxTimestamps asks the kernel to stamp every datagram conn gets.
// (The first socket to ask turns stamping on for the machine a moment
// later; until then datagrams are stamped when read. A step's sockets are
// set up seconds before its window.)
func enableRxTimestamps(conn *net.UDPConn) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	}); err != nil {
		return err
	}
	return serr
}

// rxOOBSize holds the timestamp's control message.
var rxOOBSize = unix.CmsgSpace(int(unsafe.Sizeof(unix.Timespec{})))

// rxTimestamp finds the SCM_TIMESTAMPNS control message in a datagram's
// ancillary data, without allocating.
func rxTimestamp(oob []byte) (time.Time, bool) {
	tsLen := unix.CmsgLen(int(unsafe.Sizeof(unix.Timespec{})))
	for len(oob) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < unix.SizeofCmsghdr || l > len(oob) {
			return time.Time{}, false
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS && l >= tsLen {
			ts := (*unix.Timespec)(unsafe.Pointer(&oob[unix.CmsgLen(0)]))
			return time.Unix(ts.Unix()), true
		}
		oob = oob[min(len(oob), unix.CmsgSpace(l-unix.CmsgLen(0))):]
	}
	return time.Time{}, false
}
