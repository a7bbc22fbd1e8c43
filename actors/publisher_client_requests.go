package actors

// How a publisher talks RTSP (rtspCalls does the talking): how long each
// request may take, refusals explained for publishing.

import (
	"fmt"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/actorstream/actorstream/internal/rtsp"
)

// teardownWait is how long a TEARDOWN waits for its answer, which some
// servers never give: not long, as the publication is over either way.
const teardownWait = 2 * time.Second

// waitFor is how long the answer to method may take.
func (p *PublishClient) waitFor(method string) time.Duration {
	if method == "TEARDOWN" {
		return min(p.cfg.RequestTimeout, teardownWait)
	}
	return p.cfg.RequestTimeout
}

// request sends one request and registers what to do with its answer.
func (p *PublishClient) request(ctx actor.Context, method, target string, h rtsp.Header, body []byte, handle func(actor.Context, *rtsp.Response, error)) {
	p.calls.request(ctx, method, target, h, body, handle)
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
