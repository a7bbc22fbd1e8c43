package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/actors"
)

// Config configures a Client. The zero value of each field but URL
// is usable.
type Config struct {
	URL       string // rtsp://host[:port]/path (for the lab dialect the path is the file name)
	Dialect   string // "rfc" (default), "lab" or "auto"
	Transport string // "auto" (default: UDP, then TCP if nothing arrives), "udp" or "tcp"
	RTPPort   int    // local RTP port (RTCP is the next one); 0 picks a free even port
	// Pipeline builds the receiving pipeline of each SETUP, from the
	// transport's packets to the frames handed to Output; nil means
	// DefaultPipeline. See PipelineFactory.
	Pipeline PipelineFactory
	// Output adds what consumes the received frames (display, recorder…)
	// to the client's output pipeline; nil discards them.
	Output Output
	// MaxFrames ends the session (TEARDOWN) after that many frames; 0 means no limit.
	MaxFrames int
	// Reusable keeps the client after a TEARDOWN (Teardown, or the end
	// of the stream): the player returns to Init and Setup starts a new
	// session on the same connection, as a person at the web page
	// expects; Done then closes only when the connection ends, at Close,
	// or at MaxFrames. (The lab server ignores a second SETUP on a
	// connection: in its dialect the new session gets a new connection.)
	Reusable bool
	// User and Password answer the server's authentication challenges;
	// credentials in the URL (rtsp://user:pass@host/...) are used when
	// these are empty. They are never sent in the URL itself.
	User, Password string
	// TLS configures rtsps:// URLs (server verification: RootCAs,
	// InsecureSkipVerify for tests); nil uses the system's roots.
	TLS *tls.Config
	// IdleEnd ends a playing session after this long without media
	// (servers that stop without an RTCP BYE, like the lab's); default 5 s.
	IdleEnd time.Duration
	// UserAgent is every request's User-Agent; default "actorstream".
	UserAgent string
	Log       hclog.Logger
}

// target checks cfg, fills in its defaults, and returns the URL to play
// (without credentials: requests carry Authorization headers, not
// passwords in URLs) and whether it is rtsps://.
func (cfg *Config) target() (u *url.URL, secure bool, err error) {
	u, err = url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "rtsp" && u.Scheme != "rtsps") || u.Host == "" {
		return nil, false, fmt.Errorf("%q is not an rtsp:// or rtsps:// URL", cfg.URL)
	}
	secure = u.Scheme == "rtsps"
	if u.User != nil {
		if cfg.User == "" {
			cfg.User = u.User.Username()
			cfg.Password, _ = u.User.Password()
		}
		u.User = nil
	}
	switch cfg.Dialect {
	case "":
		cfg.Dialect = actors.DialectRFC
	case actors.DialectRFC, actors.DialectLab, actors.DialectAuto:
	default:
		return nil, false, fmt.Errorf("dialect %q: want rfc, lab or auto", cfg.Dialect)
	}
	switch cfg.Transport {
	case "":
		cfg.Transport = actors.TransportAuto
	case actors.TransportUDP, actors.TransportTCP, actors.TransportAuto:
	default:
		return nil, false, fmt.Errorf("transport %q: want udp, tcp or auto", cfg.Transport)
	}
	if secure {
		// RTSPS keeps the media inside the TLS connection.
		switch cfg.Transport {
		case actors.TransportUDP:
			return nil, false, errors.New("rtsps:// carries media inside TLS: use TCP (-transport tcp)")
		case actors.TransportAuto:
			cfg.Transport = actors.TransportTCP
		}
	}
	if cfg.IdleEnd <= 0 {
		cfg.IdleEnd = 5 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	if cfg.Pipeline == nil {
		cfg.Pipeline = DefaultPipeline
	}
	return u, secure, nil
}

// dial opens the RTSP connection to u: TCP, or TLS (1.2 at least) for
// rtsps://, on the scheme's default port (554, 322) unless u names one.
func dial(ctx context.Context, u *url.URL, secure bool, tlsConfig *tls.Config) (net.Conn, error) {
	host := u.Host
	if u.Port() == "" {
		port := "554"
		if secure {
			port = "322"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var (
		nc  net.Conn
		err error
	)
	if secure {
		tc := &tls.Config{}
		if tlsConfig != nil {
			tc = tlsConfig.Clone()
		}
		if tc.ServerName == "" {
			tc.ServerName = u.Hostname()
		}
		if tc.MinVersion < tls.VersionTLS12 {
			tc.MinVersion = tls.VersionTLS12
		}
		nc, err = (&tls.Dialer{Config: tc}).DialContext(ctx, "tcp", host)
	} else {
		nc, err = (&net.Dialer{}).DialContext(ctx, "tcp", host)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot reach the RTSP server: %w", err)
	}
	return nc, nil
}
