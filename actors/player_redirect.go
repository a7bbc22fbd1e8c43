package actors

// A player follows a server's redirect of its DESCRIBE (3xx with a
// Location, RFC 2326 §11.3.3 and the HTTP codes it takes): a front door
// of a group of servers (our server's -cluster-redirect) sends each
// viewer to the server that should serve it. The player opens a
// connection to that server and asks it again, at most maxRedirects
// times.

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/actorstream/actorstream/internal/auth"
	"github.com/actorstream/actorstream/internal/rtsp"
)

// maxRedirects bounds the redirects one DESCRIBE follows: more is a loop
// between servers, or a server misconfigured.
const maxRedirects = 5

// isRedirect: the codes that move a resource elsewhere (300 Multiple
// Choices and 305 Use Proxy name no single new location).
func isRedirect(code int) bool {
	return code == 301 || code == 302 || code == 303 || code == 307
}

// follow asks the redirect's Location the DESCRIBE again, on a new
// connection; r hears why not when it cannot.
func (p *Player) follow(ctx actor.Context, resp *rtsp.Response, r chan<- error) {
	to, err := p.redirectTarget(resp)
	if err != nil {
		reply(r, err)
		return
	}
	p.redirects++
	p.cfg.Log.Info("redirected", "status", resp.StatusCode, "from", p.cfg.URL.Host, "to", to.Redacted())
	p.cfg.URL = to
	if p.calls.auth != nil {
		// The new server challenges afresh: the old one's nonce is no use.
		p.calls.auth = &auth.Client{User: p.cfg.User, Password: p.cfg.Password}
	}
	p.afterRedial = func(ctx actor.Context, err error) {
		if err != nil {
			reply(r, fmt.Errorf("redirected to %s, which cannot be reached: %w", to.Redacted(), err))
			return
		}
		p.describe(ctx, r)
	}
	p.cfg.Hooks.Redial(to)
}

// redirectTarget is where resp sends the player, or why it does not go.
func (p *Player) redirectTarget(resp *rtsp.Response) (*url.URL, error) {
	what := fmt.Sprintf("DESCRIBE: %d %s", resp.StatusCode, resp.Reason)
	loc := resp.Header.Get("Location")
	if loc == "" {
		return nil, errors.New(what + " without a Location: nowhere to go")
	}
	if p.redirects >= maxRedirects {
		return nil, fmt.Errorf("%s: more than %d redirects, the last to %s (a loop between servers?)", what, maxRedirects, loc)
	}
	to, err := p.cfg.URL.Parse(loc) // a relative Location is relative to the request's URL
	if err != nil || to.Host == "" {
		return nil, fmt.Errorf("%s to %q: not a URL", what, loc)
	}
	if to.Scheme != p.cfg.URL.Scheme {
		return nil, fmt.Errorf("%s to %s: not followed from %s:// to %s://", what, to.Redacted(), p.cfg.URL.Scheme, to.Scheme)
	}
	if p.cfg.Hooks.Redial == nil {
		return nil, fmt.Errorf("%s to %s: this player cannot open another connection", what, to.Redacted())
	}
	to.User = nil // the credentials are the player's (User, Password)
	return to, nil
}
