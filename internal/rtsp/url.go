package rtsp

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// ErrURL reports a request-URI that is not an absolute rtsp/rtsps URL.
var ErrURL = errors.New("rtsp: invalid URL")

// Default ports (RFC 2326 §3.2; rtsps per the IANA registry).
const (
	DefaultPort    = 554
	DefaultTLSPort = 322
)

// ParseURL parses an absolute rtsp:// or rtsps:// URL, IPv6 literal hosts
// ("rtsp://[::1]:8554/x") included. The scheme is lower-cased. Lab-dialect
// file names are not URLs; check Request.Lab before calling this.
func ParseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrURL, err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "rtsp" && u.Scheme != "rtsps" {
		return nil, fmt.Errorf("%w: scheme %q", ErrURL, u.Scheme)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: no host in %q", ErrURL, raw)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%w: port %q", ErrURL, p)
		}
	}
	return u, nil
}

// HostPort returns u's "host:port", filling in the scheme's default port.
func HostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	port := DefaultPort
	if u.Scheme == "rtsps" {
		port = DefaultTLSPort
	}
	return net.JoinHostPort(u.Hostname(), strconv.Itoa(port))
}
