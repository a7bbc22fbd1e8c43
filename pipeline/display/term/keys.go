package term

import (
	"errors"
	"io"
	"os"
)

type key int

const (
	keyNone key = iota
	keySetup
	keyPlay
	keyToggle
	keyTeardown
	keyQuit
	keyBack
	keyForward
)

// keyParser turns bytes typed into keys, keeping an escape sequence split
// across reads.
type keyParser struct {
	esc []byte // an escape sequence in progress
}

// feed appends the keys of b to keys.
func (p *keyParser) feed(keys []key, b []byte) []key {
	for _, c := range b {
		if len(p.esc) > 0 {
			p.esc = append(p.esc, c)
			if k, done := p.escape(); done {
				p.esc = p.esc[:0]
				if k != keyNone {
					keys = append(keys, k)
				}
			}
			continue
		}
		switch c {
		case 0x1b:
			p.esc = append(p.esc, c)
		case 's', 'S':
			keys = append(keys, keySetup)
		case 'p', 'P':
			keys = append(keys, keyPlay)
		case ' ':
			keys = append(keys, keyToggle)
		case 't', 'T':
			keys = append(keys, keyTeardown)
		case 'q', 'Q', 0x03: // Ctrl-C: raw mode delivers it as a byte
			keys = append(keys, keyQuit)
		}
	}
	return keys
}

// escape looks at the sequence so far: CSI (ESC [) or SS3 (ESC O) with
// final byte C (→) or D (←); others are ignored when complete.
func (p *keyParser) escape() (key, bool) {
	s := p.esc
	if len(s) < 2 {
		return keyNone, false
	}
	if s[1] != '[' && s[1] != 'O' {
		return keyNone, true // ESC then an ordinary key: Alt+key, ignored
	}
	if len(s) < 3 {
		return keyNone, false
	}
	last := s[len(s)-1]
	if last < 0x40 || last > 0x7e {
		if len(s) > 16 {
			return keyNone, true // not a sequence we know
		}
		return keyNone, false // parameter bytes
	}
	switch last {
	case 'C':
		return keyForward, true
	case 'D':
		return keyBack, true
	}
	return keyNone, true
}

// input is where keys are read from.
type input struct {
	r io.Reader
	// polls: reads return io.EOF every tenth of a second when no key was
	// typed (a terminal in raw mode with VMIN 0, VTIME 1), so the reader
	// can notice that Run ended.
	polls bool
}

// readKeys sends the keys read from in until in ends or stop closes.
func readKeys(in input, keys chan<- key, stop <-chan struct{}) {
	var (
		p   keyParser
		buf = make([]byte, 64)
		ks  []key
	)
	for {
		n, err := in.r.Read(buf)
		ks = p.feed(ks[:0], buf[:n])
		for _, k := range ks {
			select {
			case keys <- k:
			case <-stop:
				return
			}
		}
		select {
		case <-stop:
			return
		default:
		}
		if err != nil {
			if in.polls && (errors.Is(err, io.EOF) || errors.Is(err, os.ErrDeadlineExceeded)) {
				continue
			}
			return
		}
	}
}
