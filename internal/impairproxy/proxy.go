// Package impairproxy is an RTSP-aware relay that impairs the media it
// carries, for end-to-end fault tests: client → proxy → server, with the
// RTP from the server to the client lost, delayed, reordered or duplicated
// on the way by the same logic as the tools.Impair stage.
//
// The proxy listens on 127.0.0.1 and forwards the RTSP TCP stream both
// ways, parsing each message with rtsp.Reader and writing it again with
// Append. A SETUP offering UDP gets, per transport-spec, two port pairs of
// the proxy's own: client_port is rewritten to the pair facing the server
// before the request goes on, and in the 200 response server_port is
// rewritten to the pair facing the client (client_port back to the
// client's own). So on UDP:
//
//	server RTP  → proxy → Impair → client   (impaired)
//	server RTCP → proxy → client             (unchanged, not delayed)
//	client RTCP → proxy → server             (unchanged)
//
// Interleaved TCP ($ frames) passes through unimpaired: loss on a TCP
// stream does not exist above the transport, and a delayed frame would
// hold up the RTSP replies behind it.
//
// Each UDP stream counts what it received and forwarded, and remembers
// which RTP sequence numbers it delivered, so a test can ask how many
// packets of exactly the client's packet window never reached it
// (Stream.Undelivered).
package impairproxy

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/actorstream/actorstream/internal/rtsp"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/stages/receive"
	"github.com/actorstream/actorstream/pipeline/stages/tools"
)

// Config configures a Proxy.
type Config struct {
	// Target is the RTSP server, host:port.
	Target string
	// Impair is applied to the RTP the server sends on UDP. Each stream
	// gets its own Impairer seeded with Impair.Seed plus the stream's
	// index (0 for the first SETUP through the proxy, and so on), so a
	// test's pattern is reproducible.
	Impair tools.Impairment
}

// Proxy relays RTSP sessions to Config.Target.
type Proxy struct {
	cfg Config
	ln  net.Listener

	mu      sync.Mutex
	closed  bool
	conns   map[net.Conn]struct{}
	streams []*Stream
	wg      sync.WaitGroup
}

// Listen starts a proxy on 127.0.0.1:0; it serves until Close.
func Listen(cfg Config) (*Proxy, error) {
	if cfg.Target == "" {
		return nil, errors.New("impairproxy: no target")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{cfg: cfg, ln: ln, conns: make(map[net.Conn]struct{})}
	p.wg.Go(p.accept)
	return p, nil
}

// Addr is the proxy's RTSP address (host:port), to put in the client's URL
// in place of the server's.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Streams returns the UDP streams set up so far, in SETUP order; their
// statistics remain readable after they have ended.
func (p *Proxy) Streams() []*Stream {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*Stream(nil), p.streams...)
}

// Stats returns every stream's statistics, in SETUP order.
func (p *Proxy) Stats() []StreamStats {
	var out []StreamStats
	for _, s := range p.Streams() {
		out = append(out, s.Stats())
	}
	return out
}

// Close stops accepting, closes every relayed connection and stream and
// waits for their goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	err := p.ln.Close()
	p.wg.Wait()
	for _, s := range p.Streams() {
		s.stop()
	}
	return err
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *Proxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(client) {
			return
		}
		p.wg.Go(func() {
			defer p.untrack(client)
			server, err := net.Dial("tcp", p.cfg.Target)
			if err != nil {
				return
			}
			if !p.track(server) {
				return
			}
			defer p.untrack(server)
			r := &relay{p: p, client: client, server: server, pending: make(map[string][]*Stream)}
			r.run()
		})
	}
}

// relay carries one RTSP connection.
type relay struct {
	p              *Proxy
	client, server net.Conn

	mu      sync.Mutex
	pending map[string][]*Stream // SETUP CSeq → streams offered, by spec
	mine    []*Stream
}

func (r *relay) run() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.pump(r.server, r.client, r.fromServer)
		r.client.Close()
		r.server.Close()
	}()
	r.pump(r.client, r.server, r.fromClient)
	r.client.Close()
	r.server.Close()
	<-done
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ss := range r.pending {
		for _, s := range ss {
			s.stop()
		}
	}
	for _, s := range r.mine {
		s.stop()
	}
}

// pump reads messages from src, lets edit rewrite them, and writes them
// to dst, until either side fails.
func (r *relay) pump(src, dst net.Conn, edit func(any)) {
	rd := rtsp.NewReader(src, rtsp.WithMaxBodyBytes(1<<20))
	var buf []byte
	for {
		msg, err := rd.ReadMessage()
		if err != nil {
			var pe *rtsp.ParseError
			if errors.As(err, &pe) && !pe.Close {
				continue // a bad message the peer will not get an answer to
			}
			return
		}
		buf = buf[:0]
		switch m := msg.(type) {
		case *rtsp.Request:
			edit(m)
			buf, err = m.Append(buf)
		case *rtsp.Response:
			edit(m)
			buf, err = m.Append(buf)
		case *rtsp.Interleaved:
			buf = rtsp.AppendInterleaved(buf, m.Channel, m.Data)
		}
		if err != nil {
			return
		}
		if _, err := dst.Write(buf); err != nil {
			return
		}
	}
}

// fromClient rewrites a SETUP's UDP client ports to the proxy's.
func (r *relay) fromClient(msg any) {
	req, ok := msg.(*rtsp.Request)
	if !ok || req.Method != "SETUP" {
		return
	}
	cseq, _ := req.CSeq()
	specs, err := rtsp.ParseTransports(req.Header.Get("Transport"))
	if err != nil {
		return
	}
	clientIP := addrOf(r.client.RemoteAddr())
	var offered []*Stream
	for i, t := range specs {
		if t.Protocol != rtsp.ProtocolUDP || t.Multicast || t.ClientPort[0] <= 0 {
			continue
		}
		rtcpPort := t.ClientPort[1]
		if rtcpPort <= 0 {
			rtcpPort = t.ClientPort[0] + 1
		}
		s, err := r.p.newStream(addrOf(r.server.LocalAddr()), addrOf(r.client.LocalAddr()),
			netip.AddrPortFrom(clientIP, uint16(t.ClientPort[0])), netip.AddrPortFrom(clientIP, uint16(rtcpPort)))
		if err != nil {
			continue
		}
		offered = append(offered, s)
		specs[i].ClientPort = s.serverFacing()
		specs[i].Destination = "" // the server sends to its peer, the proxy
	}
	if len(offered) == 0 {
		return
	}
	req.Header.Set("Transport", rtsp.FormatTransports(specs))
	r.mu.Lock()
	if old := r.pending[cseq]; old != nil {
		for _, s := range old {
			s.stop()
		}
	}
	r.pending[cseq] = offered
	r.mu.Unlock()
}

// fromServer completes a stream when the server accepts its SETUP, and
// rewrites the ports the client is told.
func (r *relay) fromServer(msg any) {
	resp, ok := msg.(*rtsp.Response)
	if !ok {
		return
	}
	cseq, _ := resp.CSeq()
	r.mu.Lock()
	offered := r.pending[cseq]
	delete(r.pending, cseq)
	r.mu.Unlock()
	if offered == nil {
		return
	}
	var chosen *Stream
	defer func() {
		for _, s := range offered {
			if s != chosen {
				s.stop()
			}
		}
	}()
	if resp.StatusCode != 200 {
		return
	}
	specs, err := rtsp.ParseTransports(resp.Header.Get("Transport"))
	if err != nil || len(specs) != 1 || specs[0].Protocol != rtsp.ProtocolUDP {
		return
	}
	t := specs[0]
	for _, s := range offered {
		if s.serverFacing()[0] == t.ClientPort[0] {
			chosen = s
		}
	}
	if chosen == nil || t.ServerPort[0] <= 0 {
		return
	}
	serverIP := addrOf(r.server.RemoteAddr())
	rtcpPort := t.ServerPort[1]
	if rtcpPort <= 0 {
		rtcpPort = t.ServerPort[0] + 1
	}
	if sess, err := rtsp.ParseSession(resp.Header.Get("Session")); err == nil {
		chosen.session = sess.ID
	}
	chosen.start(netip.AddrPortFrom(serverIP, uint16(rtcpPort)))
	t.ClientPort = [2]int{int(chosen.clientRTP.Port()), int(chosen.clientRTCP.Port())}
	t.ServerPort = chosen.clientFacing()
	resp.Header.Set("Transport", t.String())
	r.mu.Lock()
	r.mine = append(r.mine, chosen)
	r.mu.Unlock()
	r.p.mu.Lock()
	r.p.streams = append(r.p.streams, chosen)
	r.p.mu.Unlock()
}

func addrOf(a net.Addr) netip.Addr {
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.IPv4Unspecified()
}

// Stream is one UDP media stream through the proxy.
type Stream struct {
	index                 int
	session               string
	clientRTP, clientRTCP netip.AddrPort // where the client listens
	serverRTCP            netip.AddrPort // where the server takes RTCP
	sRTP, sRTCP           *net.UDPConn   // facing the server
	cRTP, cRTCP           *net.UDPConn   // facing the client
	impair                *tools.Impair

	rtpOut, rtcpToClient, rtcpToServer atomic.Uint64

	mu        sync.Mutex
	delivered map[int64]bool // extended RTP sequence numbers sent to the client
	maxExt    int64
	haveExt   bool

	stopOnce sync.Once
	cancel   context.CancelFunc
	done     chan struct{}
}

// newStream binds the four sockets of a stream: two facing the server on
// serverSide, two facing the client on clientSide.
func (p *Proxy) newStream(serverSide, clientSide netip.Addr, clientRTP, clientRTCP netip.AddrPort) (*Stream, error) {
	var conns [4]*net.UDPConn
	for i := range conns {
		local := serverSide
		if i >= 2 {
			local = clientSide
		}
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(local, 0)))
		if err != nil {
			for _, c := range conns[:i] {
				c.Close()
			}
			return nil, err
		}
		conns[i] = c
		// A pair must ascend (RTP's port below RTCP's) or "a-b" does
		// not parse: swap the two if the kernel chose otherwise.
		if i%2 == 1 && port(conns[i]) < port(conns[i-1]) {
			conns[i], conns[i-1] = conns[i-1], conns[i]
		}
	}
	p.mu.Lock()
	index := len(p.streams)
	p.mu.Unlock()
	s := &Stream{
		clientRTP: clientRTP, clientRTCP: clientRTCP,
		sRTP: conns[0], sRTCP: conns[1], cRTP: conns[2], cRTCP: conns[3],
		delivered: make(map[int64]bool),
	}
	s.index = index
	cfg := p.cfg.Impair
	cfg.Seed += uint64(index)
	s.impair = &tools.Impair{Impairment: cfg}
	return s, nil
}

func port(c *net.UDPConn) int { return c.LocalAddr().(*net.UDPAddr).Port }

func (s *Stream) serverFacing() [2]int { return [2]int{port(s.sRTP), port(s.sRTCP)} }
func (s *Stream) clientFacing() [2]int { return [2]int{port(s.cRTP), port(s.cRTCP)} }

// start runs the stream's forwarding: server → Impair → client for RTP
// and RTCP, and the client's RTCP back to serverRTCP.
func (s *Stream) start(serverRTCP netip.AddrPort) {
	s.serverRTCP = serverRTCP
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan struct{})
	p := pipeline.New()
	pks := pipeline.From(p, "udpsource", &receive.UDPSource{RTPConn: s.sRTP, RTCPConn: s.sRTCP})
	pks = pipeline.Then(p, "impair", s.impair, pks)
	pipeline.To(p, "forward", pipeline.SinkFunc[*pipeline.Packet](s.forward), pks)
	var wg sync.WaitGroup
	wg.Go(func() { _ = p.Run(ctx) })
	wg.Go(s.backward)
	go func() {
		wg.Wait()
		close(s.done)
	}()
}

func (s *Stream) forward(ctx context.Context, in <-chan *pipeline.Packet) error {
	for {
		pk, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		if pk.RTCP {
			if _, err := s.cRTCP.WriteToUDPAddrPort(pk.Data, s.clientRTCP); err == nil {
				s.rtcpToClient.Add(1)
			}
		} else {
			if _, err := s.cRTP.WriteToUDPAddrPort(pk.Data, s.clientRTP); err == nil {
				s.rtpOut.Add(1)
				if len(pk.Data) >= 12 {
					s.record(binary.BigEndian.Uint16(pk.Data[2:]))
				}
			}
		}
		pk.Release()
	}
}

// backward relays the client's RTCP to the server.
func (s *Stream) backward() {
	buf := make([]byte, 2048)
	for {
		n, from, err := s.cRTCP.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if from.Addr().Unmap() != s.clientRTCP.Addr().Unmap() {
			continue
		}
		if _, err := s.sRTCP.WriteToUDPAddrPort(buf[:n], s.serverRTCP); err == nil {
			s.rtcpToServer.Add(1)
		}
	}
}

// extend maps a 16-bit sequence number to the extended one nearest ref.
func extend(seq uint16, ref int64) int64 {
	e := ref&^0xFFFF | int64(seq)
	switch {
	case e-ref > 0x8000:
		e -= 0x10000
	case ref-e > 0x8000:
		e += 0x10000
	}
	return e
}

func (s *Stream) record(seq uint16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := int64(seq)
	if s.haveExt {
		e = extend(seq, s.maxExt)
	}
	if !s.haveExt || e > s.maxExt {
		s.maxExt, s.haveExt = e, true
	}
	s.delivered[e] = true
}

// Undelivered counts the RTP packets of a receiver's window that the proxy
// never sent: the n sequence numbers ending with last (the receiver's
// highest, e.g. uint16(ReceiverSnapshot.HighestSeq), and n its expected
// count, PacketsReceived+PacketsLost). Whatever the proxy dropped, and what
// never reached it, counts; duplicates do not. ok is false when last was
// never delivered.
func (s *Stream) Undelivered(last uint16, n uint64) (missing uint64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.haveExt {
		return 0, false
	}
	end := extend(last, s.maxExt)
	if !s.delivered[end] {
		return 0, false
	}
	for e := end - int64(n) + 1; e <= end; e++ {
		if !s.delivered[e] {
			missing++
		}
	}
	return missing, true
}

func (s *Stream) stop() {
	s.stopOnce.Do(func() {
		if s.cancel != nil {
			s.cancel()
		}
		for _, c := range []*net.UDPConn{s.sRTP, s.sRTCP, s.cRTP, s.cRTCP} {
			c.Close()
		}
		if s.done != nil {
			<-s.done
		}
	})
}

// StreamStats is what one stream carried. The embedded ImpairStats count
// the server's RTP: In received, Dropped by the impairment, and so on.
type StreamStats struct {
	Index   int
	Session string
	tools.ImpairStats
	RTPForwarded uint64 // RTP datagrams sent to the client, duplicates included
	RTCPToClient uint64
	RTCPToServer uint64
}

// Stats returns the stream's counters so far.
func (s *Stream) Stats() StreamStats {
	return StreamStats{
		Index: s.index, Session: s.session, ImpairStats: s.impair.Stats(),
		RTPForwarded: s.rtpOut.Load(), RTCPToClient: s.rtcpToClient.Load(), RTCPToServer: s.rtcpToServer.Load(),
	}
}

// String summarises the stats for a log line.
func (st StreamStats) String() string {
	return fmt.Sprintf("stream %d session %s: in %d dropped %d dup %d reordered %d delayed %d, out %d, rtcp %d→client %d→server",
		st.Index, st.Session, st.In, st.Dropped, st.Duplicated, st.Reordered, st.Delayed, st.RTPForwarded, st.RTCPToClient, st.RTCPToServer)
}
