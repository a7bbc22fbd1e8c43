package rtsp

import (
	"strings"
	"unicode/utf8"
)

// Lexical rules shared by the parser and the writers. The writers apply the
// same rules as the parser so that anything we send is something we would
// accept, and so that no caller-supplied string can smuggle a CR/LF into a
// message (header injection).

// Version is the only protocol version this package speaks.
const Version = "RTSP/1.0"

// Methods of RFC 2326 §10.
const (
	MethodDescribe     = "DESCRIBE"
	MethodAnnounce     = "ANNOUNCE"
	MethodGetParameter = "GET_PARAMETER"
	MethodOptions      = "OPTIONS"
	MethodPause        = "PAUSE"
	MethodPlay         = "PLAY"
	MethodRecord       = "RECORD"
	MethodRedirect     = "REDIRECT"
	MethodSetup        = "SETUP"
	MethodSetParameter = "SET_PARAMETER"
	MethodTeardown     = "TEARDOWN"
)

// isTokenChar reports whether c may appear in an RFC 2616 token (method and
// header names): visible ASCII except the separators.
func isTokenChar(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	switch c {
	case '(', ')', '<', '>', '@', ',', ';', ':', '\\', '"', '/', '[', ']', '?', '=', '{', '}':
		return false
	}
	return true
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// validText reports whether s is UTF-8 text free of control characters
// (horizontal tab allowed). Used for header values and reason phrases.
func validText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return utf8.ValidString(s)
}

// validURI reports whether s can be a request-URI: non-empty UTF-8 without
// spaces or control characters (it is one space-separated field).
func validURI(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			return false
		}
	}
	return utf8.ValidString(s)
}

// isVersionLike reports whether s looks like "NAME/1.0": a protocol version,
// though perhaps not ours. Distinguishes 505 (wrong version) from 400.
func isVersionLike(s string) bool {
	slash := -1
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			slash = i
			break
		}
	}
	if slash <= 0 || !isToken(s[:slash]) {
		return false
	}
	rest := s[slash+1:]
	dot := -1
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		switch {
		case c == '.' && dot < 0 && i > 0:
			dot = i
		case c < '0' || c > '9':
			return false
		}
	}
	return dot > 0 && dot < len(rest)-1
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

func trimSpace(s string) string { return strings.Trim(s, " \t") }
