package server

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/internal/metrics"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
)

// Live is a stream made while it is watched (a generator, a camera, a
// stream relayed from elsewhere) that the server shares with any number
// of viewers at rtsp://host/<name> (see Server.Publish). Whatever feeds it
// calls Publish per frame, or ends a pipeline with it as a sink.
type Live struct {
	fps float64
	// feed carries each frame's RFC 2435 payloads to the RTSP viewers
	// (send.FeedSource), made once per frame: the publisher's own when
	// they fit the server's MTU, else packetized once here.
	feed   *pipeline.Feed
	shared *pipeline.SharedFramePool
	mtu    atomic.Int32 // the serving server's (0: 1400)

	clock feedClock // the feed's frames' Periods

	packMu sync.Mutex // the packetizer and its buffer
	pack   *rtpjpeg.Packetizer
	packet []byte

	mu     sync.Mutex
	subs   map[chan *pipeline.Frame]struct{}
	pool   *pipeline.FramePool
	width  int
	height int
	frames uint64
	ended  bool // see end
	aside  int  // subscriptions that are not viewers (subscribeAside)
}

// NewLive returns a live stream announced at fps frames per second.
func NewLive(fps float64) *Live {
	if fps <= 0 {
		fps = 25
	}
	return &Live{fps: fps, subs: make(map[chan *pipeline.Frame]struct{}), pool: pipeline.NewFramePool(64),
		feed: pipeline.NewFeed(), shared: pipeline.NewSharedFramePool(8)}
}

// setMTU is the MTU of the server that serves the stream: no payload it
// forwards is bigger.
func (l *Live) setMTU(mtu int) { l.mtu.Store(int32(mtu)) }

// FPS is the announced frame rate.
func (l *Live) FPS() float64 { return l.fps }

// Publish gives every viewer jpeg, re-encoded first if RFC 2435 cannot
// carry it, and packetized once for all RTSP viewers (whatever their
// number). A viewer that is behind misses the frame rather than holding
// the others up. Publish does not keep jpeg.
func (l *Live) Publish(jpeg []byte) error { return l.publish(jpeg, nil, nil, time.Time{}, 0, false) }

// publishFrame is Publish for a frame received over RTP: its RFC 2435
// payloads (Frame.Payloads) go to the RTSP viewers as they are, with new
// RTP headers only, unless one is bigger than the server's MTU allows
// (then the frame is packetized again, once). It does not keep f.
func (l *Live) publishFrame(f *pipeline.Frame) error {
	return l.publish(f.Data, f.Payloads, f.PayloadEnds, f.Captured, f.RTPTime, true)
}

// publish publishes a frame; captured is when the publisher captured it
// (zero: unknown), which the frame subscribers get (the recorder), and
// rtpTime its RTP timestamp when it came over RTP (hasRTP).
func (l *Live) publish(jpeg, payloads []byte, ends []int, captured time.Time, rtpTime uint32, hasRTP bool) error {
	var j rtpjpeg.JPEG
	if err := rtpjpeg.ParseJPEG(jpeg, &j); err != nil {
		if !errors.Is(err, rtpjpeg.ErrNotCarriable) {
			return err
		}
		conformed, err := rtpjpeg.Conform(jpeg, 85)
		if err != nil {
			return err
		}
		jpeg = conformed
		if err := rtpjpeg.ParseJPEG(jpeg, &j); err != nil {
			return err
		}
		payloads, ends = nil, nil // not the frame sent any more
	}
	if l.feed.Subscribers() > 0 {
		sf := l.share(&j, payloads, ends)
		sf.Periods = l.clock.periods(time.Now(), rtpTime, hasRTP, l.fps)
		l.feed.Publish(sf)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended {
		return nil
	}
	l.width, l.height = j.Width, j.Height
	l.frames++
	for sub := range l.subs {
		f := l.pool.Get()
		f.Data = append(f.Data, jpeg...)
		f.Captured = captured
		// The frame's number in the stream: a subscriber sees from
		// the gaps which frames it missed (the recorder counts them).
		f.Index = int(l.frames - 1)
		select {
		case sub <- f:
		default:
			f.Release()
		}
	}
	return nil
}

// share makes the frame's shared RTP payloads for the feed: payloads as
// the publisher sent them when every one fits the MTU (copied once into
// the shared frame, as the publisher's frame is not ours to keep), else
// j packetized once.
func (l *Live) share(j *rtpjpeg.JPEG, payloads []byte, ends []int) *pipeline.SharedFrame {
	mtu := int(l.mtu.Load())
	if mtu == 0 {
		mtu = 1400
	}
	sf := l.shared.Get()
	if fits(ends, mtu-rtpHeaderLen) {
		sf.Payloads = append(sf.Payloads, payloads...)
		sf.Ends = append(sf.Ends, ends...)
		return sf
	}
	l.packMu.Lock()
	defer l.packMu.Unlock()
	if l.pack == nil || l.pack.MTU() != mtu {
		l.pack, l.packet = rtpjpeg.NewPacketizer(0, 0, mtu), make([]byte, mtu)
	}
	l.pack.Begin(j, 0)
	for n := l.pack.Next(l.packet); n > 0; n = l.pack.Next(l.packet) {
		sf.Payloads = append(sf.Payloads, l.packet[rtpHeaderLen:n]...)
		sf.Ends = append(sf.Ends, len(sf.Payloads))
	}
	return sf
}

// fits reports whether every payload ending at ends is at most
// limit bytes (and there is at least one).
func fits(ends []int, limit int) bool {
	start := 0
	for _, end := range ends {
		if end-start > limit || end <= start {
			return false
		}
		start = end
	}
	return len(ends) > 0
}

// rtpHeaderLen is the size of the RTP headers the server writes.
const rtpHeaderLen = 12

// Run publishes every frame of in: a Live is a pipeline sink.
func (l *Live) Run(ctx context.Context, in <-chan *pipeline.Frame) error {
	for {
		f, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		err := l.Publish(f.Data)
		f.Release()
		if err != nil {
			return err
		}
	}
}

// size is the frame size last published.
func (l *Live) size() (int, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.width, l.height
}

// end ends the stream for good: every subscription's channel is closed
// (its viewers reach the end of the media: an RTCP BYE), later ones get
// a closed channel, and Publish publishes nothing more. A published
// path's Live ends when its publisher has gone for longer than the
// linger (see livePaths).
func (l *Live) end() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended {
		return
	}
	l.ended = true
	l.feed.End()
	for sub := range l.subs {
		delete(l.subs, sub)
		close(sub)
	}
}

// viewers is the number of subscriptions of viewers: RTSP sessions
// playing the stream and HTTP viewers, not the recorder (a relay keeps
// its upstream while there are viewers). RTSP viewers are the feed's
// streams.
func (l *Live) viewers() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return max(len(l.subs)-l.aside, 0) + l.feed.Streams()
}

// subscribeAside is subscribe for a subscriber that is not a viewer (the
// recorder): it does not keep a relayed path's upstream pulled.
func (l *Live) subscribeAside() (frames <-chan *pipeline.Frame, cancel func()) {
	frames, unsub := l.subscribe()
	l.mu.Lock()
	l.aside++
	l.mu.Unlock()
	return frames, func() {
		unsub()
		l.mu.Lock()
		l.aside--
		l.mu.Unlock()
	}
}

// subscribe returns a channel of frames from now on (complete JPEGs, one
// per published frame; the receiver owns and releases each), closed when
// the stream ends; cancel ends the subscription.
func (l *Live) subscribe() (frames <-chan *pipeline.Frame, cancel func()) {
	ch := make(chan *pipeline.Frame, 4)
	l.mu.Lock()
	if l.ended {
		close(ch)
	} else {
		l.subs[ch] = struct{}{}
	}
	l.mu.Unlock()
	return ch, func() {
		l.mu.Lock()
		if _, ok := l.subs[ch]; ok {
			delete(l.subs, ch)
			close(ch)
		}
		l.mu.Unlock()
		for f := range ch { // closed: ends once drained
			f.Release()
		}
	}
}

// liveSource is the pipeline source of one viewer of a Live stream: frames
// numbered from startIndex and stamped at the stream's rate. With loss set
// (an RTSP viewer's PLAY), it counts the frames the Live skipped for this
// viewer (the gaps in the stream's numbers) and logs what the viewer
// missed when it ends.
type liveSource struct {
	live       *Live
	startIndex int
	loss       *liveLoss
}

func (s *liveSource) Run(ctx context.Context, out chan<- *pipeline.Frame) error {
	frames, cancel := s.live.subscribe()
	defer cancel()
	defer s.loss.log()
	index, next := s.startIndex, -1 // next: the stream's number expected
	for {
		f, ok := pipeline.Recv(ctx, frames)
		if !ok {
			return ctx.Err() // nil when the stream ended: the end of the media
		}
		if next >= 0 && f.Index > next {
			s.loss.skipped(metrics.LiveViewerBehind, f.Index-next)
		}
		next = f.Index + 1
		f.Index, f.PTS = index, pipeline.PTS(index, s.live.fps)
		index++
		if !pipeline.Send(ctx, out, f) {
			f.Release()
			return ctx.Err()
		}
	}
}

// liveLoss counts the frames of a live path that one PLAY of an RTSP
// viewer missed, in the server's metrics as they go and in one line of
// the session's log at the end (never a line per frame: a stuck viewer
// misses every one). A viewer misses frames rather than holding up the
// publisher and the other viewers: the Live skips a viewer whose pipeline
// is behind (viewer_behind), and over TCP the connection's writer drops
// the packets a reader that is not reading has no room for
// (connection_backed_up, one per frame with packets dropped). A nil
// *liveLoss counts nothing.
type liveLoss struct {
	metrics  *metrics.Metrics
	logger   hclog.Logger
	missed   atomic.Uint64 // frames the viewer was behind for
	backedUp atomic.Uint64
	logged   atomic.Bool
}

// behind counts n frames the viewer's pipeline was behind for.
func (l *liveLoss) behind(n int) { l.skipped(metrics.LiveViewerBehind, n) }

func (l *liveLoss) skipped(reason string, n int) {
	if l == nil || n <= 0 {
		return
	}
	if reason == metrics.LiveConnBackedUp {
		l.backedUp.Add(uint64(n))
	} else {
		l.missed.Add(uint64(n))
	}
	l.metrics.LiveFramesSkipped(reason, n)
}

// log logs what the viewer missed, if anything, once.
func (l *liveLoss) log() {
	if l == nil || l.logger == nil || l.logged.Swap(true) {
		return
	}
	behind, backedUp := l.missed.Load(), l.backedUp.Load()
	if behind+backedUp > 0 {
		l.logger.Info("live viewer missed frames", metrics.LiveViewerBehind, behind, metrics.LiveConnBackedUp, backedUp)
	}
}

// feedClock measures how many frame periods pass between a Live's
// frames (pipeline.SharedFrame.Periods), so that a pause of its source —
// a publisher gone and back, a camera's outage, a frame lost on the way
// in — shows in the viewers' RTP timestamps as the time it lasted. The
// publisher's own RTP clock says it best; when the frames have none
// (Live.Publish) or it jumped (another publisher took over, with a clock
// of its own), ours does, counting only clear pauses so that frames
// that arrive unevenly still count one period each.
type feedClock struct {
	mu      sync.Mutex // Publish may be called from any goroutine
	at      time.Time  // when the previous frame came; zero before the first
	rtp     uint32
	haveRTP bool
}

func (c *feedClock) periods(now time.Time, rtpTime uint32, hasRTP bool, fps float64) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	prev, prevRTP, prevHasRTP := c.at, c.rtp, c.haveRTP
	c.at, c.rtp, c.haveRTP = now, rtpTime, hasRTP
	if prev.IsZero() {
		return 1
	}
	period := time.Duration(float64(time.Second) / fps)
	wall := now.Sub(prev)
	if hasRTP && prevHasRTP {
		// RFC 2435's 90 kHz clock; a delta that disagrees with ours by a
		// second or more is another clock, not a pause.
		media := time.Duration(int64(int32(rtpTime-prevRTP)) * int64(time.Second) / 90000)
		if media > 0 && (media-wall).Abs() < time.Second {
			return max(1, int(math.Round(float64(media)/float64(period))))
		}
	}
	if wall < 2*period {
		return 1
	}
	return int(math.Round(float64(wall) / float64(period)))
}
