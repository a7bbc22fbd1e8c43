package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultNonceTTL is the nonce lifetime when Authenticator.NonceTTL is 0.
const DefaultNonceTTL = 60 * time.Second

// maxNonceStates bounds the per-nonce state kept for nonces that were used
// successfully.
const maxNonceStates = 1 << 16

// Authenticator checks the Authorization header of RTSP requests against
// Users. Set the exported fields before the first Check and do not change
// them afterwards; Check is safe for concurrent use.
type Authenticator struct {
	Users *Users
	// Realm is sent in challenges and must equal the realm the users
	// file's Digest hashes were made for.
	Realm string
	// AllowBasic accepts (and offers) Basic over plain TCP. Without it,
	// Basic is accepted only when Check's tls argument is true.
	AllowBasic bool
	// NonceTTL is how long a nonce stays valid after it was issued or
	// last used successfully (default DefaultNonceTTL). An expired
	// nonce gets a stale=true challenge.
	NonceTTL time.Duration
	// NonceMaxAge, if set, also expires nonces that long after they
	// were issued, however often they are used.
	NonceMaxAge time.Duration
	// DisableSHA256 offers only the MD5 Digest challenge (SHA-256
	// answers are still accepted).
	DisableSHA256 bool
	// RequireQop refuses RFC 2069 style Digest answers (no qop). That
	// locks out GStreamer, which never sends qop.
	RequireQop bool
	// Now is the clock (default time.Now).
	Now func() time.Time

	once   sync.Once
	key    [32]byte
	mu     sync.Mutex
	states map[string]*nonceState
	basic  map[*userRecord][32]byte // HMAC of the last password verified by PBKDF2
}

type nonceState struct {
	lastUsed time.Time
	nc       uint64 // highest nonce count seen
}

// Challenge is the error Check returns when the request must be answered
// with 401 Unauthorized and the WWW-Authenticate headers from Headers.
type Challenge struct {
	Realm  string
	Nonce  string
	Stale  bool   // the credentials were right but the nonce expired
	Basic  bool   // offer Basic too
	SHA256 bool   // offer Digest SHA-256 too
	Reason string // why; for logs, never sent to the client
}

func (c *Challenge) Error() string {
	if c.Reason == "" {
		return "auth: 401 unauthorized"
	}
	return "auth: 401 unauthorized: " + c.Reason
}

// Headers returns the WWW-Authenticate values to send, in order (see the
// package comment for why this order).
func (c *Challenge) Headers() []string {
	digest := func(alg string) string {
		s := "Digest realm=" + quote(c.Realm) + ", nonce=" + quote(c.Nonce) + ", algorithm=" + alg + `, qop="auth"`
		if c.Stale {
			s += ", stale=true"
		}
		return s
	}
	var hs []string
	if c.SHA256 {
		hs = append(hs, digest("SHA-256"))
	}
	hs = append(hs, digest("MD5"))
	if c.Basic {
		hs = append(hs, "Basic realm="+quote(c.Realm))
	}
	return hs
}

// Forbidden is the error Check returns for an authenticated user who may
// not access the path: answer 403 Forbidden.
type Forbidden struct {
	User, Path string
	Right      Right // what was asked for
}

func (e *Forbidden) Error() string {
	if e.Right == RightPublish {
		return fmt.Sprintf("auth: 403 forbidden: user %q may not publish %q", e.User, e.Path)
	}
	return fmt.Sprintf("auth: 403 forbidden: user %q may not access %q", e.User, e.Path)
}

func (a *Authenticator) init() {
	a.once.Do(func() {
		rand.Read(a.key[:])
		a.states = map[string]*nonceState{}
		a.basic = map[*userRecord][32]byte{}
	})
}

func (a *Authenticator) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Authenticator) ttl() time.Duration {
	if a.NonceTTL > 0 {
		return a.NonceTTL
	}
	return DefaultNonceTTL
}

// Check authenticates a request. method and uri are the request's method
// and request-URI exactly as on the request line (the Digest uri parameter
// must equal uri; pass "" to skip that check); header looks up request
// headers (only "Authorization" is read); tls tells whether the
// connection is TLS; path is the media path the request addresses, matched
// against the user's paths permissions ("" skips that check: use it for
// requests that address no media, such as OPTIONS *).
//
// It returns the user name, or a *Challenge (send 401 with its Headers),
// or the user name and a *Forbidden (send 403).
func (a *Authenticator) Check(method, uri string, header func(name string) string, tls bool, path string) (user string, err error) {
	return a.CheckRight(method, uri, header, tls, path, RightRead)
}

// CheckRight is Check for a request that needs right on path: RightRead
// to play, RightPublish to ANNOUNCE and RECORD a stream. A user without
// the right gets a *Forbidden (403), as one not allowed the path.
func (a *Authenticator) CheckRight(method, uri string, header func(name string) string, tls bool, path string, right Right) (user string, err error) {
	a.init()
	basicOK := tls || a.AllowBasic
	fail := func(reason string, stale bool) (string, error) {
		return "", &Challenge{
			Realm: a.Realm, Nonce: a.newNonce(), Stale: stale,
			Basic: basicOK, SHA256: !a.DisableSHA256, Reason: reason,
		}
	}
	h := header("Authorization")
	if h == "" {
		return fail("no credentials", false)
	}
	cred, perr := parseAuthorization(h)
	if perr != nil {
		return fail("malformed Authorization header", false)
	}
	var rec *userRecord
	switch cred.scheme {
	case "basic":
		if !basicOK {
			return fail("Basic refused without TLS", false)
		}
		var reason string
		rec, reason = a.checkBasic(cred.token)
		if rec == nil {
			return fail(reason, false)
		}
	case "digest":
		var reason string
		var stale bool
		rec, stale, reason = a.checkDigest(method, uri, cred.params)
		if rec == nil {
			return fail(reason, stale)
		}
	default:
		return fail("unsupported scheme "+strconv.Quote(cred.scheme), false)
	}
	if !rec.allowed(path) || !rec.may(right) {
		return rec.name, &Forbidden{User: rec.name, Path: path, Right: right}
	}
	return rec.name, nil
}

// dummy is verified against for unknown users, so that they take as long
// as known ones.
var dummy = &userRecord{
	salt: make([]byte, saltLen), key: make([]byte, keyLen), iter: DefaultIterations,
	md5HA1: strings.Repeat("0", 32), sha256HA1: strings.Repeat("0", 64),
}

func (a *Authenticator) checkBasic(token string) (*userRecord, string) {
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		return nil, "malformed Basic credentials"
	}
	name, password, ok := strings.Cut(string(raw), ":")
	if !ok {
		return nil, "malformed Basic credentials"
	}
	rec := a.Users.lookup(name)
	if rec == nil || rec.key == nil {
		dummy.verifyPassword(password)
		return nil, "unknown user " + strconv.Quote(name)
	}
	mac := hmac.New(sha256.New, a.key[:])
	mac.Write([]byte(password))
	var sum [32]byte
	copy(sum[:], mac.Sum(nil))
	a.mu.Lock()
	cached, hit := a.basic[rec]
	a.mu.Unlock()
	if hit && subtle.ConstantTimeCompare(cached[:], sum[:]) == 1 {
		return rec, ""
	}
	if !rec.verifyPassword(password) {
		return nil, "wrong password for " + strconv.Quote(name)
	}
	a.mu.Lock()
	if len(a.basic) >= 4096 { // old records from reloaded Users
		clear(a.basic)
	}
	a.basic[rec] = sum
	a.mu.Unlock()
	return rec, ""
}

func (a *Authenticator) checkDigest(method, uri string, p map[string]string) (rec *userRecord, stale bool, reason string) {
	name, realm, nonce, duri, resp := p["username"], p["realm"], p["nonce"], p["uri"], p["response"]
	if name == "" || nonce == "" || resp == "" || p["uri"] == "" {
		return nil, false, "Digest parameters missing"
	}
	if _, ok := p["username*"]; ok || strings.EqualFold(p["userhash"], "true") {
		return nil, false, "username* and userhash are not supported"
	}
	if realm != a.Realm {
		return nil, false, "wrong realm " + strconv.Quote(realm)
	}
	if uri != "" && duri != uri {
		return nil, false, "Digest uri " + strconv.Quote(duri) + " is not the request-URI " + strconv.Quote(uri)
	}
	var alg *algorithm
	switch strings.ToUpper(p["algorithm"]) {
	case "", "MD5":
		alg = algMD5
	case "SHA-256":
		alg = algSHA256
	default:
		return nil, false, "unsupported algorithm " + strconv.Quote(p["algorithm"])
	}
	qop, nc, cnonce := p["qop"], p["nc"], p["cnonce"]
	var count uint64
	switch {
	case qop == "":
		if a.RequireQop {
			return nil, false, "Digest without qop refused"
		}
		if nc != "" || cnonce != "" {
			return nil, false, "nc or cnonce without qop"
		}
	case strings.EqualFold(qop, "auth"):
		qop = "auth"
		var err error
		count, err = strconv.ParseUint(nc, 16, 32)
		if err != nil || len(nc) != 8 || count == 0 || cnonce == "" {
			return nil, false, "bad nc or cnonce"
		}
	default:
		return nil, false, "unsupported qop " + strconv.Quote(qop)
	}

	issued, genuine := a.openNonce(nonce)
	if !genuine {
		return nil, false, "unknown nonce"
	}
	rec = a.Users.lookup(name)
	ha1 := ""
	if rec != nil && rec.realm == a.Realm {
		if alg == algMD5 {
			ha1 = rec.md5HA1
		} else {
			ha1 = rec.sha256HA1
		}
	}
	known := ha1 != ""
	if !known {
		ha1 = dummy.md5HA1
		if alg == algSHA256 {
			ha1 = dummy.sha256HA1
		}
	}
	want := alg.response(ha1, nonce, nc, cnonce, qop, method, duri)
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(resp)), []byte(want)) != 1 || !known {
		return nil, false, "wrong Digest response for " + strconv.Quote(name)
	}

	// The answer is right; now the nonce's freshness and count.
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.states[nonce]
	last := issued
	if st != nil {
		last = st.lastUsed
	}
	if now.Sub(last) > a.ttl() || (a.NonceMaxAge > 0 && now.Sub(issued) > a.NonceMaxAge) || now.Before(issued.Add(-time.Minute)) {
		delete(a.states, nonce)
		return nil, true, "nonce expired"
	}
	if st == nil {
		if len(a.states) >= maxNonceStates {
			a.sweepLocked(now)
		}
		st = &nonceState{}
		a.states[nonce] = st
	}
	if qop != "" {
		if count <= st.nc {
			// A replay, or requests reordered across connections:
			// either way a fresh nonce is the answer.
			return nil, true, "nonce count not increasing (replay?)"
		}
		st.nc = count
	}
	st.lastUsed = now
	return rec, false, ""
}

// sweepLocked drops expired nonce states and, if still full, arbitrary
// ones (their clients then get stale=true and retry).
func (a *Authenticator) sweepLocked(now time.Time) {
	for n, st := range a.states {
		if now.Sub(st.lastUsed) > a.ttl() {
			delete(a.states, n)
		}
	}
	for n := range a.states {
		if len(a.states) < maxNonceStates*7/8 {
			break
		}
		delete(a.states, n)
	}
}

const (
	nonceRandLen = 16
	nonceMACLen  = 16
	nonceRawLen  = 8 + nonceRandLen + nonceMACLen
)

// newNonce returns issue-time ‖ random ‖ HMAC(issue-time ‖ random),
// base64url-encoded. It keeps no state.
func (a *Authenticator) newNonce() string {
	var raw [nonceRawLen]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(a.now().UnixNano()))
	rand.Read(raw[8 : 8+nonceRandLen])
	copy(raw[8+nonceRandLen:], a.mac(raw[:8+nonceRandLen]))
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

// openNonce checks that nonce was made by newNonce with this key and
// returns its issue time.
func (a *Authenticator) openNonce(nonce string) (time.Time, bool) {
	if base64.RawURLEncoding.DecodedLen(len(nonce)) != nonceRawLen {
		return time.Time{}, false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(nonce)
	if err != nil || len(raw) != nonceRawLen {
		return time.Time{}, false
	}
	if !hmac.Equal(raw[8+nonceRandLen:], a.mac(raw[:8+nonceRandLen])) {
		return time.Time{}, false
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(raw[:8]))), true
}

func (a *Authenticator) mac(b []byte) []byte {
	m := hmac.New(sha256.New, a.key[:])
	m.Write(b)
	return m.Sum(nil)[:nonceMACLen]
}
