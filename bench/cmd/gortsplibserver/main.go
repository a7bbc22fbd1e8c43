// Command gortsplibserver is a benchmark competitor: an RTSP server built on
// github.com/bluenviron/gortsplib/v4 that serves one raw MJPEG file (as
// `ffmpeg -f mjpeg` writes), looped forever at a fixed frame rate, as RTP/JPEG
// (RFC 2435, payload type 26) over UDP unicast or TCP interleaved.
//
//	gortsplibserver -addr 127.0.0.1:8554 -file clip.mjpeg -fps 30 -mtu 1400
//
// With -live instead of -file it is a relay: a publisher's ANNOUNCE and
// RECORD on any path make the stream, fed with the publisher's packets as
// they come, and readers of any path play it (live.go).
//
//	gortsplibserver -addr 127.0.0.1:8554 -live
//
// Every path (rtsp://ADDR/anything) plays the same shared ServerStream,
// which one goroutine feeds on an absolute schedule (frame n at start+n/fps).
// The frames are split once at start and kept in memory; a frame whose
// only quantization table is shared by luma and chroma (ffmpeg's usual
// output) gets a copy as the chroma table, so that the RTP stream carries
// the 128 bytes of tables that RFC 2435 receivers, our server and
// rtpjpegpay use (-chroma-qtable=false turns that off). The server's RTP
// and RTCP ports are bound to 127.0.0.1. It prints "ready" on stdout once
// listening, logs nothing per session or packet, and exits on SIGINT or
// SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtpmjpeg"
)

const rtpHeaderSize = 12 // no CSRCs, no extension

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gortsplibserver:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		addr     = flag.String("addr", "127.0.0.1:8554", "RTSP listen address")
		file     = flag.String("file", "", "raw MJPEG file (concatenated JPEG frames) to serve, looped")
		fps      = flag.Float64("fps", 30, "frame rate")
		mtu      = flag.Int("mtu", 1400, "largest RTP packet in bytes, RTP header included")
		rtpPort  = flag.Int("udp-rtp-port", 0, "server UDP port for RTP, even (default: a free pair on 127.0.0.1)")
		rtcpPort = flag.Int("udp-rtcp-port", 0, "server UDP port for RTCP, -udp-rtp-port+1 (default: a free pair)")
		chromaQT = flag.Bool("chroma-qtable", true, "give frames with a single quantization table a copy as the chroma table, so RTP carries 128 bytes of tables as RFC 2435 receivers expect")
		live     = flag.Bool("live", false, "serve what a publisher sends (ANNOUNCE/RECORD on any path) instead of -file")
	)
	flag.Parse()
	switch {
	case flag.NArg() > 0:
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	case *file == "" && !*live:
		return errors.New("-file or -live is required")
	case *file != "" && *live:
		return errors.New("-file and -live do not go together")
	case !(*fps > 0 && *fps <= 1000):
		return fmt.Errorf("-fps %v: want 0 < fps <= 1000", *fps)
	case *mtu < rtpHeaderSize+64 || *mtu > 1472:
		return fmt.Errorf("-mtu %d: want %d to 1472", *mtu, rtpHeaderSize+64)
	case (*rtpPort == 0) != (*rtcpPort == 0):
		return errors.New("give both -udp-rtp-port and -udp-rtcp-port, or neither")
	}

	var frames [][]byte
	var err error
	if !*live {
		if frames, err = loadFrames(*file); err != nil {
			return err
		}
	}
	added := 0
	if *chromaQT {
		for i, f := range frames {
			frames[i] = withChromaTable(f)
			if len(frames[i]) != len(f) {
				added++
			}
		}
	}
	// Fail now, not on the first PLAY, if a frame is one RFC 2435 can't carry.
	if err := checkFrames(frames, *mtu-rtpHeaderSize); err != nil {
		return err
	}

	h := &handler{}
	var sh gortsplib.ServerHandler = h
	if *live {
		sh = &liveHandler{handler: h}
	}
	h.server = &gortsplib.Server{
		Handler:        sh,
		RTSPAddress:    *addr,
		WriteQueueSize: 4096, // comfortably more than one frame's packets per session
		MaxPacketSize:  *mtu,
	}
	if *rtpPort == 0 {
		rtpConn, rtcpConn, err := listenUDPPair("127.0.0.1")
		if err != nil {
			return err
		}
		h.server.UDPRTPAddress = rtpConn.LocalAddr().String()
		h.server.UDPRTCPAddress = rtcpConn.LocalAddr().String()
		// Hand gortsplib the sockets already bound, so no one else can take
		// the ports between picking and binding them.
		h.server.ListenPacket = preBound(rtpConn, rtcpConn)
	} else {
		h.server.UDPRTPAddress = net.JoinHostPort("127.0.0.1", strconv.Itoa(*rtpPort))
		h.server.UDPRTCPAddress = net.JoinHostPort("127.0.0.1", strconv.Itoa(*rtcpPort))
	}
	if err := h.server.Start(); err != nil {
		return err
	}
	defer h.server.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *live {
		fmt.Fprintf(os.Stderr, "gortsplibserver: relaying what is published to rtsp://%s/ (UDP RTP %s, RTCP %s)\n",
			*addr, h.server.UDPRTPAddress, h.server.UDPRTCPAddress)
		return serve(ctx, stop, h, nil)
	}

	// The stream needs a started server; until it is set, requests get 503.
	stream := &gortsplib.ServerStream{
		Server: h.server,
		Desc: &description.Session{
			Medias: []*description.Media{{
				Type:    description.MediaTypeVideo,
				Formats: []format.Format{&format.MJPEG{}},
			}},
		},
	}
	if err := stream.Initialize(); err != nil {
		return err
	}
	defer stream.Close()
	h.stream.Store(stream)
	fmt.Fprintf(os.Stderr, "gortsplibserver: %d frames (%d given a chroma table) from %s at %v fps on rtsp://%s/ (UDP RTP %s, RTCP %s)\n",
		len(frames), added, *file, *fps, *addr, h.server.UDPRTPAddress, h.server.UDPRTCPAddress)
	return serve(ctx, stop, h, func(ctx context.Context) {
		h.feed(ctx, stream, frames, *fps, *mtu-rtpHeaderSize)
	})
}

// serve runs until ctx ends or the server fails: the error reports and,
// for -file, feed.
func serve(ctx context.Context, stop func(), h *handler, feed func(context.Context)) error {
	var wg sync.WaitGroup
	if feed != nil {
		wg.Go(func() { feed(ctx) })
	}
	wg.Go(func() { h.reportErrors(ctx) })
	fmt.Println("ready")

	var err error
	waitErr := make(chan error, 1)
	go func() { waitErr <- h.server.Wait() }()
	select {
	case <-ctx.Done():
	case err = <-waitErr:
		stop()
	}
	wg.Wait()
	return err
}

// handler answers every path with the one shared stream. It logs nothing
// per connection or session; per-packet errors are only counted.
type handler struct {
	server *gortsplib.Server
	stream atomic.Pointer[gortsplib.ServerStream]

	mu      sync.Mutex
	playing map[*gortsplib.ServerSession]struct{}
	readers atomic.Int64 // len(playing): feed skips the work while it is 0

	// setupMu serializes SETUP requests. In gortsplib v4.16.2 a UDP SETUP
	// (ServerStream.readerAdd) reads the other readers' transport and
	// media map without a lock while their own SETUPs write them: a data
	// race that can stop the process with "concurrent map iteration and
	// map write" when many clients from one address set up at once.
	// setupHolder is the connection whose SETUP holds it.
	setupMu     sync.Mutex
	setupHolder atomic.Pointer[gortsplib.ServerConn]

	writeErrors  atomic.Uint64 // a session's write queue was full or its connection failed
	decodeErrors atomic.Uint64 // undecodable RTP/RTCP from clients
}

// OnRequest implements gortsplib.ServerHandlerOnRequest. gortsplib calls
// it and then OnResponse on the connection's goroutine around the handling
// of each request.
func (h *handler) OnRequest(sc *gortsplib.ServerConn, req *base.Request) {
	if req.Method == base.Setup {
		h.setupMu.Lock()
		h.setupHolder.Store(sc)
	}
}

// OnResponse implements gortsplib.ServerHandlerOnResponse.
func (h *handler) OnResponse(sc *gortsplib.ServerConn, _ *base.Response) {
	if h.setupHolder.CompareAndSwap(sc, nil) {
		h.setupMu.Unlock()
	}
}

// OnDescribe implements gortsplib.ServerHandlerOnDescribe.
func (h *handler) OnDescribe(*gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return h.answer()
}

// OnSetup implements gortsplib.ServerHandlerOnSetup.
func (h *handler) OnSetup(*gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return h.answer()
}

// answer gives DESCRIBE and SETUP, whatever their path, the stream.
func (h *handler) answer() (*base.Response, *gortsplib.ServerStream, error) {
	if st := h.stream.Load(); st != nil {
		return &base.Response{StatusCode: base.StatusOK}, st, nil
	}
	return &base.Response{StatusCode: base.StatusServiceUnavailable}, nil, nil
}

// OnPlay implements gortsplib.ServerHandlerOnPlay.
func (h *handler) OnPlay(ctx *gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	h.setPlaying(ctx.Session, true)
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// OnPause implements gortsplib.ServerHandlerOnPause.
func (h *handler) OnPause(ctx *gortsplib.ServerHandlerOnPauseCtx) (*base.Response, error) {
	h.setPlaying(ctx.Session, false)
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// OnSessionClose implements gortsplib.ServerHandlerOnSessionClose.
func (h *handler) OnSessionClose(ctx *gortsplib.ServerHandlerOnSessionCloseCtx) {
	h.setPlaying(ctx.Session, false)
}

// setPlaying records whether ss is playing, to count the readers.
func (h *handler) setPlaying(ss *gortsplib.ServerSession, on bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.playing == nil {
		h.playing = make(map[*gortsplib.ServerSession]struct{})
	}
	if on {
		h.playing[ss] = struct{}{}
	} else {
		delete(h.playing, ss)
	}
	h.readers.Store(int64(len(h.playing)))
}

// OnStreamWriteError implements gortsplib.ServerHandlerOnStreamWriteError;
// without it gortsplib logs every failed packet.
func (h *handler) OnStreamWriteError(*gortsplib.ServerHandlerOnStreamWriteErrorCtx) {
	h.writeErrors.Add(1)
}

// OnDecodeError implements gortsplib.ServerHandlerOnDecodeError; without it
// gortsplib logs every undecodable packet.
func (h *handler) OnDecodeError(*gortsplib.ServerHandlerOnDecodeErrorCtx) {
	h.decodeErrors.Add(1)
}

// reportErrors prints the error counters every 10 s while they grow, and
// once more at the end if they are not zero.
func (h *handler) reportErrors(ctx context.Context) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	var lastW, lastD uint64
	report := func() {
		w, d := h.writeErrors.Load(), h.decodeErrors.Load()
		if w != lastW || d != lastD {
			fmt.Fprintf(os.Stderr, "gortsplibserver: %d stream write errors, %d decode errors so far\n", w, d)
			lastW, lastD = w, d
		}
	}
	for {
		select {
		case <-ctx.Done():
			report()
			return
		case <-t.C:
			report()
		}
	}
}

// resync is how late a frame may go out before the schedule moves on
// rather than bursting to catch up.
const resync = 250 * time.Millisecond

// feed writes the frames to the stream, looping, until ctx ends. Frame n
// (counted across loops) is due at start + n/fps and carries RTP timestamp
// base + n*90000/fps; the NTP time in sender reports is its due time. If
// the loop falls more than resync behind, start moves on by that much.
// While no session plays, frames are counted but not encoded or written.
func (h *handler) feed(ctx context.Context, stream *gortsplib.ServerStream, frames [][]byte, fps float64, payloadMax int) {
	enc := &rtpmjpeg.Encoder{PayloadMaxSize: payloadMax}
	if err := enc.Init(); err != nil {
		panic(err) // only fails if crypto/rand does
	}
	media := stream.Desc.Medias[0]
	clock := float64(media.Formats[0].ClockRate())
	tsBase := rand.Uint32() // RFC 3550 5.1: a random initial timestamp

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()

	start := time.Now()
	for n := int64(0); ; n++ {
		due := start.Add(time.Duration(math.Round(float64(n) * float64(time.Second) / fps)))
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			return
		} else if late := -wait; late > resync {
			start = start.Add(late)
			due = due.Add(late)
		}

		if h.readers.Load() == 0 {
			continue // nobody to send to: keep time, skip the work
		}
		pkts, err := enc.Encode(frames[n%int64(len(frames))])
		if err != nil {
			panic(err) // checkFrames encoded every frame already
		}
		ts := tsBase + uint32(int64(math.Round(float64(n)*clock/fps)))
		for _, pkt := range pkts {
			pkt.Timestamp = ts
			if err := stream.WritePacketRTPWithNTP(media, pkt, due); err != nil {
				return // the stream is closed
			}
		}
	}
}

// checkFrames encodes every frame once with a throwaway encoder, so that a
// frame gortsplib can't packetize is reported at start.
func checkFrames(frames [][]byte, payloadMax int) error {
	enc := &rtpmjpeg.Encoder{PayloadMaxSize: payloadMax}
	if err := enc.Init(); err != nil {
		return err
	}
	for i, f := range frames {
		if _, err := enc.Encode(f); err != nil {
			return fmt.Errorf("frame %d: %w", i, err)
		}
	}
	return nil
}

// listenUDPPair binds two consecutive UDP ports on ip, the first even, as
// gortsplib requires of its RTP and RTCP ports.
func listenUDPPair(ip string) (rtp, rtcp *net.UDPConn, err error) {
	for range 100 {
		probe, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip)})
		if err != nil {
			return nil, nil, err
		}
		p := probe.LocalAddr().(*net.UDPAddr).Port
		probe.Close()
		p &^= 1
		if p < 1024 || p > 65534 {
			continue
		}
		rtp, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip), Port: p})
		if err != nil {
			continue
		}
		rtcp, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip), Port: p + 1})
		if err != nil {
			rtp.Close()
			continue
		}
		return rtp, rtcp, nil
	}
	return nil, nil, errors.New("no free pair of UDP ports")
}

// preBound returns a gortsplib ListenPacket function that hands out the
// given bound sockets for their own addresses (once each) and binds any
// other address as usual.
func preBound(conns ...*net.UDPConn) func(network, address string) (net.PacketConn, error) {
	var mu sync.Mutex
	left := make(map[string]*net.UDPConn, len(conns))
	for _, c := range conns {
		left[c.LocalAddr().String()] = c
	}
	return func(network, address string) (net.PacketConn, error) {
		mu.Lock()
		c, ok := left[address]
		delete(left, address)
		mu.Unlock()
		if ok {
			return c, nil
		}
		return net.ListenPacket(network, address)
	}
}
