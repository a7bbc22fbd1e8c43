package server

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/actorstream/actorstream/internal/rtsp"
)

// A front door of a group of servers (engine/cluster, -cluster-redirect)
// sends each new viewer to the server that should serve it: it answers
// DESCRIBE with 302 Moved Temporarily and a Location on that server (RFC
// 2326 §11.3.3, the status codes of HTTP). ffmpeg, GStreamer, live555
// and our client follow it; RFC 2326's REDIRECT method (§10.15) is no
// alternative, being sent by a server to a client inside a session,
// which no player supports.
//
// Only DESCRIBE is redirected, after authentication (a client without
// credentials learns nothing of the group's servers): OPTIONS, the
// lab's dialect (its client follows no redirect), publishers (ANNOUNCE),
// requests of sessions set up here and pulls by the group's other
// servers (ClusterAgent) are served here, as are requests that would
// change scheme (rtsps:// to rtsp:// or the other way).

// ClusterAgent is the User-Agent of a server pulling a path from another
// of its group (directory.go). A front door serves such a pull itself: it
// is the path's owner, and a pull sent on to another server could come
// back, or chain edges behind edges.
const ClusterAgent = "actorstream-cluster"

// Placement chooses the server a new viewer of a path goes to.
type Placement interface {
	// Place is the server (rtsp://host:port) that should serve name, or
	// "" for this one.
	Place(ctx context.Context, name string) (string, error)
}

// placeWait bounds how long a DESCRIBE waits for Placement: past it the
// viewer is served here.
const placeWait = time.Second

// redirect answers req with 302 when Config.Placement sends its viewer
// elsewhere, or nil to serve it here.
func (c *conn) redirect(req *rtsp.Request) *rtsp.Response {
	p := c.srv.cfg.Placement
	if p == nil || req.Lab || req.Header.Get("User-Agent") == ClusterAgent {
		return nil
	}
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "rtsp" && u.Scheme != "rtsps") {
		return nil
	}
	name, err := cleanName(strings.TrimSuffix(u.Path, "/"))
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(c.srv.media.ctx, placeWait)
	defer cancel()
	to, err := p.Place(ctx, name)
	if err != nil || to == "" {
		if err != nil {
			c.log.Debug("cannot place the viewer: serving it here", "path", name, "error", err)
		}
		return nil
	}
	loc, err := url.Parse(to)
	if err != nil || loc.Host == "" || (loc.Scheme != "rtsp" && loc.Scheme != "rtsps") {
		c.log.Warn("placement gave an unusable server URL: serving here", "path", name, "server", to)
		return nil
	}
	if (loc.Scheme == "rtsps") != c.tls {
		// Never from rtsps:// to plain rtsp://; nor the other way, which
		// a client set up for one (its TLS settings, its URL's scheme)
		// may not follow.
		return nil
	}
	// The same path and query on the other server; never the request's
	// user information (clients send none there, and a Location is logged).
	loc.Path, loc.RawPath, loc.RawQuery, loc.User = u.Path, u.RawPath, u.RawQuery, nil
	c.log.Debug("viewer sent to another server", "path", name, "to", loc.Host)
	resp := reply(req, 302)
	resp.Reason = "Moved Temporarily"
	resp.Header.Set("Location", loc.String())
	return resp
}
