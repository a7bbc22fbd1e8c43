package actors

// How a client actor (Player, PublishClient) talks RTSP: each request
// goes out with the next CSeq, the session and credentials, under a
// timer; its answer is matched by CSeq and handed to the request's
// handler on the actor; a 401 is answered once with credentials. The
// actors differ only in what they ask and how they read the answers.

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/internal/auth"
	"github.com/actorstream/actorstream/internal/rtsp"
)

// rtspCalls is a client's requests in flight on one RTSP connection.
// Only its actor uses it.
type rtspCalls struct {
	cseq    int
	pending map[int]*rtspCall
	// session is the Session header every request carries once SETUP
	// gave one ("" before), but an OPTIONS that is no keep-alive.
	session string
	// useOpts: keep alive with OPTIONS (the server does not implement
	// GET_PARAMETER).
	useOpts bool
	// auth answers challenges; nil without credentials (and in the lab
	// dialect, which knows none).
	auth      *auth.Client
	tls       bool // the connection is encrypted: Basic may be sent
	userAgent string
	// wait is how long the answer to method may take.
	wait func(method string) time.Duration
	// encode, when set, writes a request in another dialect than RFC
	// 2326's (the lab's); it returns nil, nil to leave it to rfc.
	encode func(c *rtspCall, cseq int) ([]byte, error)
	// soleAnswer: an answer without CSeq answers the one request pending,
	// if only one is (ffmpeg's listen mode refusing a TEARDOWN over TCP).
	soleAnswer bool
	write      func(b []byte)
	log        hclog.Logger
}

// rtspCall is one request and what to do with its answer: handle gets
// the answer, or an error when none came.
type rtspCall struct {
	method, target string
	header         rtsp.Header
	body           []byte
	handle         func(ctx actor.Context, resp *rtsp.Response, err error)
	timeout        *time.Timer
	wait           time.Duration // how long timeout waits
	retried        bool          // already re-sent with credentials
}

// rtspTimeout is the message a request's timer sends its actor.
type rtspTimeout struct{ cseq int }

func newRTSPCalls(user, password string, tls bool, userAgent string, write func([]byte), log hclog.Logger) *rtspCalls {
	c := &rtspCalls{pending: map[int]*rtspCall{}, tls: tls, userAgent: userAgent, write: write, log: log}
	if user != "" {
		c.auth = &auth.Client{User: user, Password: password}
	}
	return c
}

// request sends one request and registers what to do with its answer.
func (c *rtspCalls) request(ctx actor.Context, method, target string, h rtsp.Header, body []byte, handle func(actor.Context, *rtsp.Response, error)) {
	c.send(ctx, &rtspCall{method: method, target: target, header: h, body: body, handle: handle})
}

// send sends call with the next CSeq.
func (c *rtspCalls) send(ctx actor.Context, call *rtspCall) {
	c.cseq++
	cseq := c.cseq
	var b []byte
	var err error
	if c.encode != nil {
		b, err = c.encode(call, cseq)
	}
	if b == nil && err == nil {
		b, err = c.rfc(call, cseq)
	}
	if err != nil {
		call.handle(ctx, nil, fmt.Errorf("%s: %w", call.method, err))
		return
	}
	call.wait = c.wait(call.method)
	root, self := ctx.ActorSystem().Root, ctx.Self()
	call.timeout = time.AfterFunc(call.wait, func() { root.Send(self, &rtspTimeout{cseq: cseq}) })
	c.pending[cseq] = call
	c.log.Debug("request", "method", call.method, "url", call.target, "cseq", cseq)
	c.write(b)
}

// rfc writes call as an RFC 2326 request.
func (c *rtspCalls) rfc(call *rtspCall, cseq int) ([]byte, error) {
	req := &rtsp.Request{Method: call.method, URL: call.target, Header: call.header.Clone(), Body: call.body}
	req.Header.Set("CSeq", strconv.Itoa(cseq))
	if c.auth != nil {
		if a := c.auth.Authorize(call.method, call.target); a != "" {
			req.Header.Set("Authorization", a)
		}
	}
	req.Header.Set("User-Agent", c.userAgent)
	if c.session != "" && (call.method != "OPTIONS" || c.useOpts) {
		req.Header.Set("Session", c.session)
	}
	return req.Append(nil)
}

// answer hands resp to the request it answers; answers to no pending
// request are logged and dropped.
func (c *rtspCalls) answer(ctx actor.Context, resp *rtsp.Response) {
	raw, ok := resp.CSeq()
	cseq, err := strconv.Atoi(strings.TrimSpace(raw))
	if !ok && c.soleAnswer && len(c.pending) == 1 {
		for n := range c.pending {
			cseq, err = n, nil
		}
	}
	call := c.pending[cseq]
	if err != nil || call == nil {
		c.log.Debug("response to no pending request ignored", "cseq", raw, "status", resp.StatusCode)
		return
	}
	delete(c.pending, cseq)
	call.timeout.Stop()
	c.log.Debug("response", "method", call.method, "cseq", cseq, "status", resp.StatusCode)
	if resp.StatusCode == 401 && c.auth != nil && !call.retried {
		retry, err := c.auth.Update(resp.Header.Values("WWW-Authenticate"), c.tls)
		if err == nil && retry {
			call.retried = true
			c.send(ctx, call) // once, with credentials; a second 401 is final
			return
		}
		if err != nil {
			c.log.Warn("cannot answer the server's challenge", "error", err)
		}
	}
	if v := resp.Header.Get("Authentication-Info"); v != "" && c.auth != nil {
		c.auth.Info(v)
	}
	call.handle(ctx, resp, nil)
}

// timedOut fails the request whose timer fired, if it is still pending.
func (c *rtspCalls) timedOut(ctx actor.Context, m *rtspTimeout) {
	if call := c.pending[m.cseq]; call != nil {
		delete(c.pending, m.cseq)
		call.handle(ctx, nil, fmt.Errorf("%s: no answer from the server within %s", call.method, call.wait))
	}
}

// closed fails every pending request: the connection is gone.
func (c *rtspCalls) closed(ctx actor.Context) {
	for cseq, call := range c.pending {
		delete(c.pending, cseq)
		call.timeout.Stop()
		call.handle(ctx, nil, fmt.Errorf("%s: connection closed by the server", call.method))
	}
}

// stop stops the timers of the requests pending (the actor stops).
func (c *rtspCalls) stop() {
	for _, call := range c.pending {
		call.timeout.Stop()
	}
}

// keepalive asks target something harmless to keep the session alive:
// GET_PARAMETER, or OPTIONS once the server said it does not implement
// that. An unanswered keep-alive is no failure: some servers (ffmpeg's
// listen mode) read no requests while media flows.
func (c *rtspCalls) keepalive(ctx actor.Context, target string) {
	method := "GET_PARAMETER"
	if c.useOpts {
		method = "OPTIONS"
	}
	c.request(ctx, method, target, nil, nil, func(ctx actor.Context, resp *rtsp.Response, err error) {
		if resp != nil && (resp.StatusCode == 501 || resp.StatusCode == 405) && !c.useOpts {
			c.useOpts = true
			c.log.Debug("GET_PARAMETER not supported; keeping alive with OPTIONS")
		}
	})
}

// setupSession is the session a SETUP answer gives, or an error that says
// it gives none.
func setupSession(resp *rtsp.Response) (rtsp.Session, error) {
	s, err := rtsp.ParseSession(resp.Header.Get("Session"))
	if err != nil {
		return s, fmt.Errorf("SETUP: the server sent no usable Session header (%q)", resp.Header.Get("Session"))
	}
	return s, nil
}

// sendAfter sends msg to the actor itself after d.
func sendAfter(ctx actor.Context, d time.Duration, msg any) {
	root, self := ctx.ActorSystem().Root, ctx.Self()
	time.AfterFunc(d, func() { root.Send(self, msg) })
}
