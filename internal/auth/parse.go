package auth

import (
	"errors"
	"strings"
)

// maxHeaderLen bounds the work done on one Authorization or
// WWW-Authenticate value.
const maxHeaderLen = 8 << 10

var errMalformed = errors.New("auth: malformed header")

func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return false
		}
	}
	return true
}

// splitList splits s at commas that are outside quoted strings, dropping
// empty elements. It fails on an unterminated quoted string.
func splitList(s string) ([]string, error) {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == ',':
			if item := strings.TrimSpace(s[start:i]); item != "" {
				out = append(out, item)
			}
			start = i + 1
		}
	}
	if quoted {
		return nil, errMalformed
	}
	if item := strings.TrimSpace(s[start:]); item != "" {
		out = append(out, item)
	}
	return out, nil
}

// parseParam parses `name = value` where value is a token or a quoted
// string. The name is returned lower-cased.
func parseParam(item string) (name, value string, err error) {
	eq := strings.IndexByte(item, '=')
	if eq < 0 {
		return "", "", errMalformed
	}
	name = strings.TrimSpace(item[:eq])
	raw := strings.TrimSpace(item[eq+1:])
	if !isToken(name) {
		return "", "", errMalformed
	}
	if strings.HasPrefix(raw, `"`) {
		value, err = unquote(raw)
		if err != nil {
			return "", "", err
		}
	} else {
		// Tokens, plus the characters some clients leave unquoted
		// (uri=/a/b, nonce values with '/', '=').
		for i := 0; i < len(raw); i++ {
			if c := raw[i]; c <= ' ' || c == 0x7f || c == '"' || c == '\\' {
				return "", "", errMalformed
			}
		}
		value = raw
	}
	return strings.ToLower(name), value, nil
}

// unquote decodes a complete quoted-string.
func unquote(s string) (string, error) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", errMalformed
	}
	var b strings.Builder
	for i := 1; i < len(s)-1; i++ {
		c := s[i]
		switch {
		case c == '\\':
			i++
			if i >= len(s)-1 {
				return "", errMalformed
			}
			c = s[i]
		case c == '"':
			return "", errMalformed
		}
		if (c < ' ' && c != '\t') || c == 0x7f {
			return "", errMalformed
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

// quote returns s as a quoted-string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// authorization is a parsed Authorization header.
type authorization struct {
	scheme string            // lower-cased: "basic", "digest", ...
	token  string            // token68 (Basic credentials)
	params map[string]string // auth-params, names lower-cased
}

// parseAuthorization parses an Authorization header value. Duplicate
// parameters are refused: they make the meaning ambiguous.
func parseAuthorization(h string) (*authorization, error) {
	if len(h) > maxHeaderLen {
		return nil, errMalformed
	}
	h = strings.TrimSpace(h)
	sp := strings.IndexAny(h, " \t")
	scheme, rest := h, ""
	if sp >= 0 {
		scheme, rest = h[:sp], strings.TrimSpace(h[sp+1:])
	}
	if !isToken(scheme) {
		return nil, errMalformed
	}
	a := &authorization{scheme: strings.ToLower(scheme)}
	if a.scheme == "basic" {
		if !isToken68(rest) {
			return nil, errMalformed
		}
		a.token = rest
		return a, nil
	}
	items, err := splitList(rest)
	if err != nil {
		return nil, err
	}
	a.params = make(map[string]string, len(items))
	for _, item := range items {
		name, value, err := parseParam(item)
		if err != nil {
			return nil, err
		}
		if _, dup := a.params[name]; dup {
			return nil, errMalformed
		}
		a.params[name] = value
	}
	return a, nil
}

func isToken68(s string) bool {
	if s == "" {
		return false
	}
	i := 0
	for i < len(s) && (isAlnum(s[i]) || strings.IndexByte("-._~+/", s[i]) >= 0) {
		i++
	}
	if i == 0 {
		return false
	}
	for i < len(s) && s[i] == '=' {
		i++
	}
	return i == len(s)
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// challenge is one parsed WWW-Authenticate challenge.
type challenge struct {
	scheme string            // lower-cased
	params map[string]string // names lower-cased; first occurrence wins
}

// parseChallenges parses WWW-Authenticate values; each value may itself
// hold several comma-separated challenges (RFC 7235 §4.1). Values that do
// not parse are skipped.
func parseChallenges(values []string) []challenge {
	var out []challenge
	for _, v := range values {
		if len(v) > maxHeaderLen {
			continue
		}
		items, err := splitList(v)
		if err != nil {
			continue
		}
		var cur *challenge
		for _, item := range items {
			// "Scheme", "Scheme param=value" or "param=value". A space
			// before any '=' starts a new challenge, unless what follows
			// the space is the '=' (BWS: "realm = x").
			sp := strings.IndexAny(item, " \t")
			eq := strings.IndexByte(item, '=')
			if eq < 0 || (sp >= 0 && sp < eq && strings.TrimLeft(item[sp:], " \t")[0] != '=') {
				scheme := item
				rest := ""
				if sp >= 0 {
					scheme, rest = item[:sp], strings.TrimSpace(item[sp+1:])
				}
				if !isToken(scheme) {
					cur = nil
					continue
				}
				out = append(out, challenge{scheme: strings.ToLower(scheme), params: map[string]string{}})
				cur = &out[len(out)-1]
				if rest == "" {
					continue
				}
				item = rest
			}
			if cur == nil {
				continue
			}
			name, value, err := parseParam(item)
			if err != nil {
				continue // token68 or junk: ignore
			}
			if _, dup := cur.params[name]; !dup {
				cur.params[name] = value
			}
		}
	}
	return out
}
