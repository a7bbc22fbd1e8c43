package actors

// How a player talks RTSP (rtspCalls does the talking): its requests in
// the lab dialect, how long each may take, errors explained to the user.

import (
	"fmt"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/actorstream/actorstream/internal/rtsp"
)

// request sends one request and registers what to do with its answer.
func (p *Player) request(ctx actor.Context, method, target string, h rtsp.Header, handle func(actor.Context, *rtsp.Response, error)) {
	p.calls.request(ctx, method, target, h, nil, handle)
}

// encodeLab writes a request in the lab dialect when the player speaks
// it; nil, nil leaves RFC 2326 requests to rtspCalls.
func (p *Player) encodeLab(c *rtspCall, cseq int) ([]byte, error) {
	if !p.lab {
		return nil, nil
	}
	return rtsp.AppendLabRequest(nil, rtsp.LabRequest{
		Method: c.method, File: p.labFile(), CSeq: cseq, Session: p.calls.session, ClientPort: p.cfg.ClientPorts[0],
	})
}

// speakLab switches to the lab dialect for good. It knows no
// authentication: a 401 is final, and no credentials are sent.
func (p *Player) speakLab() {
	p.lab = true
	p.calls.auth = nil
}

func (p *Player) waitFor(method string) time.Duration {
	if method == "OPTIONS" && p.cfg.Dialect == DialectAuto && p.state == Init && !p.done {
		return p.cfg.DialectTimeout
	}
	return p.cfg.RequestTimeout
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
