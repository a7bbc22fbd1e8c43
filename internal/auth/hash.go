package auth

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"io"
	"strings"
)

// algorithm is a Digest algorithm (RFC 7616 §3.3 / §6.1).
type algorithm struct {
	name string // canonical token, as sent in challenges
	new  func() hash.Hash
	sess bool
	rank int // client preference: higher is stronger
}

var (
	algMD5     = &algorithm{name: "MD5", new: md5.New, rank: 1}
	algSHA256  = &algorithm{name: "SHA-256", new: sha256.New, rank: 2}
	algorithms = map[string]*algorithm{
		"MD5":              algMD5,
		"MD5-SESS":         {name: "MD5-sess", new: md5.New, sess: true, rank: 1},
		"SHA-256":          algSHA256,
		"SHA-256-SESS":     {name: "SHA-256-sess", new: sha256.New, sess: true, rank: 2},
		"SHA-512-256":      {name: "SHA-512-256", new: sha512.New512_256, rank: 3},
		"SHA-512-256-SESS": {name: "SHA-512-256-sess", new: sha512.New512_256, sess: true, rank: 3},
	}
)

// lookupAlgorithm maps an algorithm token (case-insensitive; "" is MD5)
// to its algorithm, or nil.
func lookupAlgorithm(tok string) *algorithm {
	if tok == "" {
		return algMD5
	}
	return algorithms[strings.ToUpper(tok)]
}

// h returns the lower-case hex hash of parts joined by ':'.
func (a *algorithm) h(parts ...string) string {
	hh := a.new()
	for i, p := range parts {
		if i > 0 {
			io.WriteString(hh, ":")
		}
		io.WriteString(hh, p)
	}
	return hex.EncodeToString(hh.Sum(nil))
}

// ha1 is H(user:realm:password).
func (a *algorithm) ha1(user, realm, password string) string {
	return a.h(user, realm, password)
}

// response computes the Digest request-digest from HA1. qop is "" (RFC
// 2069 form) or "auth"; nc and cnonce are used only with qop.
func (a *algorithm) response(ha1, nonce, nc, cnonce, qop, method, uri string) string {
	if a.sess {
		ha1 = a.h(ha1, nonce, cnonce)
	}
	ha2 := a.h(method, uri)
	if qop == "" {
		return a.h(ha1, nonce, ha2)
	}
	return a.h(ha1, nonce, nc, cnonce, qop, ha2)
}
