package rtsp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrSession reports an unparsable Session header.
var ErrSession = errors.New("rtsp: invalid Session")

// Session is the Session header (RFC 2326 §12.37).
type Session struct {
	ID      string
	Timeout int // seconds; 0 when absent
}

// ParseSession parses "ID" or "ID;timeout=N". Unknown parameters are
// ignored. The ID is any run of visible characters other than ';' (the RFC
// grammar is narrower, but servers in the wild use wider alphabets and we
// only compare IDs).
func ParseSession(v string) (Session, error) {
	params := strings.Split(v, ";")
	s := Session{ID: trimSpace(params[0])}
	if !validSessionID(s.ID) {
		return Session{}, fmt.Errorf("%w: id %q", ErrSession, s.ID)
	}
	for _, p := range params[1:] {
		name, value, _ := strings.Cut(trimSpace(p), "=")
		if !strings.EqualFold(trimSpace(name), "timeout") {
			continue
		}
		n, err := parseDecimal(trimSpace(value), 1, 1<<30)
		if err != nil {
			return Session{}, fmt.Errorf("%w: timeout %q", ErrSession, value)
		}
		s.Timeout = n
	}
	return s, nil
}

func validSessionID(id string) bool {
	if id == "" {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f || c == ';' || c == ',' {
			return false
		}
	}
	return true
}

// String formats "ID" or "ID;timeout=N". Note the lab client needs a bare
// decimal ID in replies: do not send a timeout to it.
func (s Session) String() string {
	if s.Timeout > 0 {
		return s.ID + ";timeout=" + strconv.Itoa(s.Timeout)
	}
	return s.ID
}
