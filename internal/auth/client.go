package auth

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
)

var (
	// ErrNoChallenge: no WWW-Authenticate challenge this package can answer.
	ErrNoChallenge = errors.New("auth: no supported authentication challenge")
	// ErrBasicNeedsTLS: only Basic was offered, the connection is not TLS
	// and Client.AllowBasic is not set.
	ErrBasicNeedsTLS = errors.New("auth: server offers only Basic, which would send the password in clear without TLS")
)

// Respond answers the WWW-Authenticate values of a 401 response for one
// request, returning the Authorization header value. It picks the
// strongest challenge it supports: Digest SHA-512-256 > SHA-256 > MD5
// (each with qop=auth when offered, else the RFC 2069 form), then Basic.
// Basic is used only when no Digest challenge is usable, and only over TLS
// (ErrBasicNeedsTLS otherwise; use a Client with AllowBasic to override).
func Respond(challenges []string, method, uri, user, password string, tls bool) (authorization string, err error) {
	c := &Client{User: user, Password: password}
	if _, err := c.Update(challenges, tls); err != nil {
		return "", err
	}
	return c.Authorize(method, uri), nil
}

// Client keeps the state of a client's authentication with one server: it
// answers later requests with the same nonce and increasing nonce counts
// instead of waiting for a 401 each time. It is safe for concurrent use.
//
//	resp := send(req)                  // with Authorization: c.Authorize(...) if non-empty
//	if resp is 401 {
//		retry, err := c.Update(resp.Header.Values("WWW-Authenticate"), tls)
//		if err == nil && retry { resend with c.Authorize(method, uri) }
//	}
type Client struct {
	User, Password string
	// AllowBasic lets the client answer a Basic-only server over plain
	// TCP, sending the password in clear.
	AllowBasic bool

	mu        sync.Mutex
	scheme    string // "", "basic" or "digest"
	alg       *algorithm
	realm     string
	nonce     string
	opaque    string
	hasOpaque bool
	qop       string // "auth" or ""
	algTok    string // the algorithm parameter to echo, "" if the challenge had none
	hashed    bool   // userhash=true
	nc        uint32
	sent      bool // credentials were sent since the last Update
}

// Update takes the WWW-Authenticate values of a 401 response and chooses
// the challenge to answer. retry reports whether resending the request is
// worthwhile: true unless credentials were already sent since the last
// Update and the server did not say stale=true (i.e. they were refused).
func (c *Client) Update(challenges []string, tls bool) (retry bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var best *challenge
	var bestAlg *algorithm
	basic := false
	for _, ch := range parseChallenges(challenges) {
		switch ch.scheme {
		case "basic":
			basic = true
		case "digest":
			alg := usableDigest(ch)
			if alg != nil && (bestAlg == nil || alg.rank > bestAlg.rank) {
				best, bestAlg = &ch, alg
			}
		}
	}
	retry = !c.sent
	switch {
	case best != nil:
		if strings.EqualFold(best.params["stale"], "true") {
			retry = true
		}
		c.scheme, c.alg = "digest", bestAlg
		c.realm, c.nonce = best.params["realm"], best.params["nonce"]
		c.opaque, c.hasOpaque = best.params["opaque"]
		c.algTok = ""
		if _, ok := best.params["algorithm"]; ok {
			c.algTok = bestAlg.name
		}
		c.qop = ""
		if _, ok := best.params["qop"]; ok {
			c.qop = "auth"
		}
		c.hashed = strings.EqualFold(best.params["userhash"], "true")
	case basic:
		if !tls && !c.AllowBasic {
			return false, ErrBasicNeedsTLS
		}
		if strings.Contains(c.User, ":") {
			return false, errors.New("auth: a Basic user name cannot contain ':'")
		}
		c.scheme = "basic"
	default:
		return false, ErrNoChallenge
	}
	c.nc, c.sent = 0, false
	return retry, nil
}

// usableDigest returns the algorithm of a Digest challenge this client can
// answer, or nil.
func usableDigest(ch challenge) *algorithm {
	if ch.params["nonce"] == "" {
		return nil
	}
	if _, ok := ch.params["realm"]; !ok {
		return nil
	}
	alg := lookupAlgorithm(ch.params["algorithm"])
	if alg == nil {
		return nil
	}
	if q, ok := ch.params["qop"]; ok {
		found := false
		for _, v := range strings.Split(q, ",") {
			if strings.EqualFold(strings.TrimSpace(v), "auth") {
				found = true
			}
		}
		if !found {
			return nil // auth-int only
		}
	} else if alg.sess {
		return nil // -sess needs a cnonce, which only qop carries
	}
	return alg
}

// Info takes an Authentication-Info header value (RFC 7616 §3.5): a
// nextnonce replaces the nonce for later requests.
func (c *Client) Info(value string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.scheme != "digest" {
		return
	}
	items, err := splitList(value)
	if err != nil {
		return
	}
	for _, item := range items {
		if name, v, err := parseParam(item); err == nil && name == "nextnonce" && v != "" && v != c.nonce {
			c.nonce, c.nc = v, 0
		}
	}
}

// Authorize returns the Authorization header value for a request, or ""
// before the first successful Update.
func (c *Client) Authorize(method, uri string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch c.scheme {
	case "basic":
		c.sent = true
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(c.User+":"+c.Password))
	case "digest":
		c.sent = true
		return c.digestLocked(method, uri, newCnonce())
	}
	return ""
}

func newCnonce() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (c *Client) digestLocked(method, uri, cnonce string) string {
	nc := ""
	if c.qop == "" {
		cnonce = ""
	} else {
		c.nc++
		nc = fmt.Sprintf("%08x", c.nc)
	}
	resp := c.alg.response(c.alg.ha1(c.User, c.realm, c.Password), c.nonce, nc, cnonce, c.qop, method, uri)
	user := c.User
	if c.hashed {
		user = c.alg.h(c.User, c.realm)
	}
	var b strings.Builder
	b.WriteString("Digest username=" + quote(user) + ", realm=" + quote(c.realm) +
		", nonce=" + quote(c.nonce) + ", uri=" + quote(uri) + ", response=" + quote(resp))
	if c.algTok != "" {
		b.WriteString(", algorithm=" + c.algTok)
	}
	if c.hasOpaque {
		b.WriteString(", opaque=" + quote(c.opaque))
	}
	if c.qop != "" {
		b.WriteString(", qop=auth, nc=" + nc + ", cnonce=" + quote(cnonce))
	}
	if c.hashed {
		b.WriteString(", userhash=true")
	}
	return b.String()
}
