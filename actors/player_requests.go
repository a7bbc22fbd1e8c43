package actors

// How a player talks RTSP: one request at a time, its response matched by
// CSeq and handled on the actor, errors explained to the user.

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/actorstream/actorstream/internal/rtsp"
)

// request sends one request and registers what to do with its answer.
func (p *Player) request(ctx actor.Context, method, target string, h rtsp.Header, handle func(actor.Context, *rtsp.Response, error)) {
	p.send(ctx, &pendingRequest{method: method, target: target, header: h, handle: handle})
}

// send sends pr with the next CSeq.
func (p *Player) send(ctx actor.Context, pr *pendingRequest) {
	method, target, h, handle := pr.method, pr.target, pr.header, pr.handle
	p.cseq++
	cseq := p.cseq
	var b []byte
	var err error
	if p.lab {
		b, err = rtsp.AppendLabRequest(nil, rtsp.LabRequest{
			Method: method, File: p.labFile(), CSeq: cseq, Session: p.session, ClientPort: p.cfg.ClientPorts[0],
		})
	} else {
		req := &rtsp.Request{Method: method, URL: target, Header: h.Clone()}
		req.Header.Set("CSeq", strconv.Itoa(cseq))
		if p.auth != nil {
			if a := p.auth.Authorize(method, target); a != "" {
				req.Header.Set("Authorization", a)
			}
		}
		req.Header.Set("User-Agent", p.cfg.UserAgent)
		if p.session != "" && method != "OPTIONS" || p.session != "" && p.useOpts {
			req.Header.Set("Session", p.session)
		}
		b, err = req.Append(nil)
	}
	if err != nil {
		handle(ctx, nil, fmt.Errorf("%s: %w", method, err))
		return
	}
	wait := p.waitFor(method)
	root, self := ctx.ActorSystem().Root, ctx.Self()
	pr.timeout = time.AfterFunc(wait, func() { root.Send(self, &requestTimeout{cseq: cseq}) })
	p.pending[cseq] = pr
	p.cfg.Log.Debug("request", "method", method, "url", target, "cseq", cseq)
	p.cfg.Hooks.Send(b)
}

func (p *Player) waitFor(method string) time.Duration {
	if method == "OPTIONS" && p.cfg.Dialect == DialectAuto && p.state == Init && !p.done {
		return p.cfg.DialectTimeout
	}
	return p.cfg.RequestTimeout
}

func (p *Player) response(ctx actor.Context, resp *rtsp.Response) {
	raw, _ := resp.CSeq()
	cseq, err := strconv.Atoi(strings.TrimSpace(raw))
	pr := p.pending[cseq]
	if err != nil || pr == nil {
		p.cfg.Log.Debug("response to no pending request ignored", "cseq", raw, "status", resp.StatusCode)
		return
	}
	delete(p.pending, cseq)
	pr.timeout.Stop()
	p.cfg.Log.Debug("response", "method", pr.method, "cseq", cseq, "status", resp.StatusCode)
	if resp.StatusCode == 401 && p.auth != nil && !pr.retried && !p.lab {
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

// check turns a failed or non-2xx answer into an error a person can read.
func (p *Player) check(resp *rtsp.Response, err error) error {
	if err != nil {
		return err
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	e := &ServerError{Code: resp.StatusCode, Reason: resp.Reason, Explanation: explain(resp.StatusCode, p.mediaName())}
	if resp.StatusCode == 401 && p.cfg.User != "" {
		e.Explanation = "wrong user name or password"
	}
	return e
}

// ServerError is a non-2xx answer from the server.
type ServerError struct {
	Code        int
	Reason      string
	Explanation string
}

func (e *ServerError) Error() string {
	reason := e.Reason
	if reason == "" {
		reason = rtsp.StatusText(e.Code)
	}
	if e.Explanation == "" {
		return fmt.Sprintf("%d %s", e.Code, reason)
	}
	return fmt.Sprintf("%d %s: %s", e.Code, reason, e.Explanation)
}

func explain(code int, media string) string {
	switch code {
	case 401:
		return "the server wants credentials (rtsp://user:password@host/... or -user and -password)"
	case 403:
		return "the server refuses access to '" + media + "'"
	case 404:
		return "no media '" + media + "' on server"
	case 415:
		return "the server cannot play '" + media + "'"
	case 454:
		return "the server no longer knows this session (it may have timed out)"
	case 455:
		return "the server does not allow this in the session's current state"
	case 457:
		return "the position is outside the media"
	case 459, 461:
		return "the server does not support this transport; try -transport tcp or udp"
	case 501:
		return "the server does not implement this method"
	case 505:
		return "the server does not speak RTSP/1.0"
	}
	return ""
}

func (p *Player) mediaName() string {
	if p.cfg.URL == nil {
		return ""
	}
	return strings.TrimPrefix(p.cfg.URL.Path, "/")
}

func (p *Player) labFile() string { return p.mediaName() }

func (p *Player) controlURL() string {
	if p.lab {
		return p.labFile()
	}
	// RFC 2326 §C.1.1: with a session-level control "*" (or none),
	// aggregate requests go to the presentation URL.
	return p.cfg.URL.String()
}
