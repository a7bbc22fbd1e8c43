package receive

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// DefaultReadTimeout bounds each socket read of UDPSource, as in the lab
// client, so a reader notices cancellation even if nothing wakes it.
const DefaultReadTimeout = 500 * time.Millisecond

// MaxDatagram is the buffer size of UDPSource's private pool: the largest
// UDP payload, so that whole-frame lab datagrams are never truncated.
const MaxDatagram = 65536

// UDPSource receives RTP (and optionally RTCP) datagrams for the client.
type UDPSource struct {
	RTPConn  *net.UDPConn
	RTCPConn *net.UDPConn // nil: RTP only (the lab dialect has no RTCP)
	// ReadTimeout is the longest a read blocks before the source checks
	// its context again; 0 means DefaultReadTimeout.
	ReadTimeout time.Duration
	// Pool supplies the packets; nil means a private pool of MaxDatagram
	// buffers. Buffers smaller than a datagram truncate it.
	Pool *pipeline.PacketPool
	// Peer, when valid, is the only host whose datagrams are accepted;
	// others are dropped (anyone can send to an open port): each is a Drop
	// event (ErrNotFromPeer) and is counted in Stats.
	Peer netip.Addr

	filtered atomic.Uint64
}

// ErrNotFromPeer is why UDPSource drops a datagram from a host other than
// its Peer.
var ErrNotFromPeer = errors.New("stages: datagram from a host other than the peer")

// UDPSourceStats is what a UDPSource has done so far.
type UDPSourceStats struct {
	// Filtered is the number of datagrams dropped because they came from
	// a host other than Peer.
	Filtered uint64 `json:"filtered"`
}

// Stats may be called from any goroutine, also while Run runs.
func (s *UDPSource) Stats() UDPSourceStats { return UDPSourceStats{Filtered: s.filtered.Load()} }

// Run reads both sockets until ctx ends (it returns ctx.Err()) or a socket
// is closed (it returns nil); any other read error is returned. Each
// socket has its own reader goroutine, both stopped before Run returns.
func (s *UDPSource) Run(ctx context.Context, out chan<- *pipeline.Packet) error {
	return s.readBoth(ctx, func(ctx context.Context, pk *pipeline.Packet) bool { return pipeline.Send(ctx, out, pk) })
}

// Push reads as Run does, handing each packet to emit on the socket's
// reader goroutine (pipeline.PushSource): one for RTP, one for RTCP.
func (s *UDPSource) Push(ctx context.Context, emit func(*pipeline.Packet)) error {
	return s.readBoth(ctx, func(_ context.Context, pk *pipeline.Packet) bool { emit(pk); return true })
}

// readBoth runs a reader on each socket, handing what they read to
// deliver (false: not delivered, its ctx ended).
func (s *UDPSource) readBoth(ctx context.Context, deliver func(context.Context, *pipeline.Packet) bool) error {
	if s.RTPConn == nil {
		return errors.New("stages: UDPSource without RTPConn")
	}
	pool := s.Pool
	if pool == nil {
		pool = pipeline.NewPacketPool(8, MaxDatagram)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	start := func(conn *net.UDPConn, rtcp bool) {
		// Cancellation interrupts a blocked read at once; ReadTimeout
		// is only the backstop.
		stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Now()) })
		wg.Go(func() {
			defer stop()
			err := s.readLoop(ctx, conn, rtcp, pool, deliver)
			// The first reader to stop ends Run and stops the other.
			once.Do(func() { first = err })
			cancel()
		})
	}
	start(s.RTPConn, false)
	if s.RTCPConn != nil {
		start(s.RTCPConn, true)
	}
	wg.Wait()
	return first
}

func (s *UDPSource) readLoop(ctx context.Context, conn *net.UDPConn, rtcp bool, pool *pipeline.PacketPool, deliver func(context.Context, *pipeline.Packet) bool) error {
	timeout := s.ReadTimeout
	if timeout <= 0 {
		timeout = DefaultReadTimeout
	}
	pk := pool.Get()
	defer func() {
		if pk != nil {
			pk.Release()
		}
	}()
	for {
		conn.SetReadDeadline(time.Now().Add(timeout))
		// Checked after setting the deadline, so that a cancellation
		// racing with it cannot be overwritten by it.
		if err := ctx.Err(); err != nil {
			return err
		}
		ok, err := s.read(conn, pk, rtcp)
		if err != nil {
			switch {
			case errors.Is(err, os.ErrDeadlineExceeded):
				continue
			case errors.Is(err, net.ErrClosed):
				return nil
			case ignorable(err):
				continue
			}
			return err
		}
		if !ok {
			pipeline.ReportDrop(ctx, 1, ErrNotFromPeer)
			continue // pk is reused for the next read
		}
		if !deliver(ctx, pk) {
			return ctx.Err()
		}
		pk = pool.Get()
	}
}

// read receives one datagram into pk, trimming Data to its size and
// stamping its arrival; ok is false when it was filtered out and pk is
// free to be read into again.
func (s *UDPSource) read(conn *net.UDPConn, pk *pipeline.Packet, rtcp bool) (ok bool, err error) {
	pk.Data = pk.Data[:cap(pk.Data)]
	n, from, err := conn.ReadFromUDPAddrPort(pk.Data)
	if err != nil {
		return false, err
	}
	if s.Peer.IsValid() && from.Addr().Unmap() != s.Peer.Unmap() {
		s.filtered.Add(1)
		return false, nil
	}
	pk.Data = pk.Data[:n]
	pk.RTCP = rtcp
	pk.Received = time.Now()
	return true, nil
}

// ignorable reports errors that say something about a past send, not about
// this socket: an ICMP port unreachable for our RTCP, reported on the next
// read (ECONNREFUSED on Linux, ECONNRESET on Windows).
func ignorable(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH)
}
