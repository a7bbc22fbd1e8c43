package main

import (
	"sync"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/pion/rtp"
)

// liveHandler is the -live server: a publisher's ANNOUNCE makes the
// stream, RECORD feeds every packet it sends to the stream as it comes
// (gortsplib restamps nothing but the SSRC and its RTCP), and readers of
// any path play it, as gortsplib's own server example does. One
// publisher at a time: a second ANNOUNCE gets 455 while the first
// publishes. DESCRIBE and SETUP get 404 while nothing is published.
//
// It shares the file server's handler for the rest: the SETUP lock
// (gortsplib's UDP SETUP race), PLAY/PAUSE bookkeeping and the error
// counters.
type liveHandler struct {
	*handler

	mu        sync.Mutex
	publisher *gortsplib.ServerSession // nil: nothing published
}

// OnAnnounce implements gortsplib.ServerHandlerOnAnnounce.
func (h *liveHandler) OnAnnounce(ctx *gortsplib.ServerHandlerOnAnnounceCtx) (*base.Response, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.publisher != nil {
		return &base.Response{StatusCode: base.StatusMethodNotValidInThisState}, nil
	}
	st := &gortsplib.ServerStream{Server: h.server, Desc: ctx.Description}
	if err := st.Initialize(); err != nil {
		return &base.Response{StatusCode: base.StatusBadRequest}, nil
	}
	h.publisher = ctx.Session
	h.stream.Store(st)
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// OnRecord implements gortsplib.ServerHandlerOnRecord: from now on every
// RTP packet of the publisher goes to the readers, on the publisher's
// reading goroutine.
func (h *liveHandler) OnRecord(ctx *gortsplib.ServerHandlerOnRecordCtx) (*base.Response, error) {
	st := h.stream.Load()
	if st == nil || !h.isPublisher(ctx.Session) {
		return &base.Response{StatusCode: base.StatusBadRequest}, nil
	}
	ctx.Session.OnPacketRTPAny(func(m *description.Media, _ format.Format, pkt *rtp.Packet) {
		// The stream's medias are the announced ones: m is one of them.
		if err := st.WritePacketRTP(m, pkt); err != nil {
			h.writeErrors.Add(1)
		}
	})
	return &base.Response{StatusCode: base.StatusOK}, nil
}

func (h *liveHandler) isPublisher(ss *gortsplib.ServerSession) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.publisher == ss
}

// OnDescribe implements gortsplib.ServerHandlerOnDescribe.
func (h *liveHandler) OnDescribe(*gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return h.published()
}

// OnSetup implements gortsplib.ServerHandlerOnSetup: the publisher's own
// SETUP (mode=record) takes no stream; readers' get the published one.
func (h *liveHandler) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	if ctx.Session.State() == gortsplib.ServerSessionStatePreRecord {
		return &base.Response{StatusCode: base.StatusOK}, nil, nil
	}
	return h.published()
}

func (h *liveHandler) published() (*base.Response, *gortsplib.ServerStream, error) {
	if st := h.stream.Load(); st != nil {
		return &base.Response{StatusCode: base.StatusOK}, st, nil
	}
	return &base.Response{StatusCode: base.StatusNotFound}, nil, nil
}

// OnSessionClose implements gortsplib.ServerHandlerOnSessionClose: when the
// publisher leaves, its stream ends (its readers' sessions with it) and the
// path is free again.
func (h *liveHandler) OnSessionClose(ctx *gortsplib.ServerHandlerOnSessionCloseCtx) {
	h.handler.OnSessionClose(ctx)
	h.mu.Lock()
	defer h.mu.Unlock()
	if ctx.Session != h.publisher {
		return
	}
	h.publisher = nil
	if st := h.stream.Swap(nil); st != nil {
		st.Close()
	}
}
