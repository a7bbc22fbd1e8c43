package actors

// How a publisher talks RTSP: each request's answer matched by CSeq and
// handled on the actor, a 401 answered once with credentials, refusals
// explained for publishing.

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/actorstream/actorstream/internal/rtsp"
)

// teardownWait is how long a TEARDOWN waits for its answer, which some
// servers never give: not long, as the publication is over either way.
const teardownWait = 2 * time.Second

type pubRequest struct {
	method, target string
	header         rtsp.Header
	body           []byte
	handle         func(ctx actor.Context, resp *rtsp.Response, err error)
	timeout        *time.Timer
	wait           time.Duration // how long timeout waits
	retried        bool          // already re-sent with credentials
}

// request sends one request and registers what to do with its answer.
func (p *PublishClient) request(ctx actor.Context, method, target string, h rtsp.Header, body []byte, handle func(actor.Context, *rtsp.Response, error)) {
	p.send(ctx, &pubRequest{method: method, target: target, header: h, body: body, handle: handle})
}

// send sends pr with the next CSeq.
func (p *PublishClient) send(ctx actor.Context, pr *pubRequest) {
	p.cseq++
	cseq := p.cseq
	req := &rtsp.Request{Method: pr.method, URL: pr.target, Header: pr.header.Clone(), Body: pr.body}
	req.Header.Set("CSeq", strconv.Itoa(cseq))
	if p.auth != nil {
		if a := p.auth.Authorize(pr.method, pr.target); a != "" {
			req.Header.Set("Authorization", a)
		}
	}
	req.Header.Set("User-Agent", p.cfg.UserAgent)
	if p.session != "" {
		req.Header.Set("Session", p.session)
	}
	b, err := req.Append(nil)
	if err != nil {
		pr.handle(ctx, nil, fmt.Errorf("%s: %w", pr.method, err))
		return
	}
	root, self := ctx.ActorSystem().Root, ctx.Self()
	pr.wait = p.cfg.RequestTimeout
	if pr.method == "TEARDOWN" {
		pr.wait = min(pr.wait, teardownWait)
	}
	pr.timeout = time.AfterFunc(pr.wait, func() { root.Send(self, &requestTimeout{cseq: cseq}) })
	p.pending[cseq] = pr
	p.cfg.Log.Debug("request", "method", pr.method, "url", pr.target, "cseq", cseq)
	p.cfg.Hooks.Send(b)
}

func (p *PublishClient) response(ctx actor.Context, resp *rtsp.Response) {
	raw, ok := resp.CSeq()
	cseq, err := strconv.Atoi(strings.TrimSpace(raw))
	if !ok && len(p.pending) == 1 {
		// No CSeq (ffmpeg's listen mode, refusing a TEARDOWN over
		// TCP): with one request pending, it can only answer that.
		for c := range p.pending {
			cseq, err = c, nil
		}
	}
	pr := p.pending[cseq]
	if err != nil || pr == nil {
		p.cfg.Log.Debug("response to no pending request ignored", "cseq", raw, "status", resp.StatusCode)
		return
	}
	delete(p.pending, cseq)
	pr.timeout.Stop()
	p.cfg.Log.Debug("response", "method", pr.method, "cseq", cseq, "status", resp.StatusCode)
	if resp.StatusCode == 401 && p.auth != nil && !pr.retried {
		retry, err := p.auth.Update(resp.Header.Values("WWW-Authenticate"), p.cfg.TLS)
		if err == nil && retry {
			pr.retried = true
			p.send(ctx, pr) // once, with credentials; a second 401 is final
			return
		}
		if err != nil {
			p.cfg.Log.Warn("cannot answer the server's challenge", "error", err)
		}
	}
	if v := resp.Header.Get("Authentication-Info"); v != "" && p.auth != nil {
		p.auth.Info(v)
	}
	pr.handle(ctx, resp, nil)
}

// check turns a failed or non-2xx answer to method into an error a person
// can read: the server's status and reason, and what it means when
// publishing.
func (p *PublishClient) check(method string, resp *rtsp.Response, err error) error {
	if err != nil {
		return err
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	e := &ServerError{Code: resp.StatusCode, Reason: resp.Reason, Explanation: p.explain(method, resp.StatusCode)}
	return fmt.Errorf("%s: %w", method, e)
}

// explain says what a refusal means to someone publishing.
func (p *PublishClient) explain(method string, code int) string {
	path := strings.TrimPrefix(p.cfg.URL.Path, "/")
	switch code {
	case 401:
		if p.cfg.User != "" {
			return "wrong user name or password"
		}
		return "the server wants credentials (rtsp://user:password@host/... or -user and -password)"
	case 403:
		return "the server does not let you publish to '" + path + "'"
	case 404:
		return "the server has no place to publish '" + path + "'"
	case 405, 501:
		if method == "ANNOUNCE" || method == "SETUP" || method == "RECORD" {
			return "the server cannot record streams (it does not implement " + method + ")"
		}
		return "the server does not implement " + method
	case 453:
		return "the server has no room for another session"
	case 455:
		return "the server does not allow " + method + " now (is another publisher already sending to '" + path + "'?)"
	case 459, 461:
		return "the server does not support this transport; try -transport tcp or udp"
	case 505:
		return "the server does not speak RTSP/1.0"
	}
	return ""
}
