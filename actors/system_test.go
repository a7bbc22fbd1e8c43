package actors

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// lockedBuffer is written by the log while the test reads it
// (internal/enginetest's SyncBuffer would import this package back).
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSystemStartIsDebug: the actor system's start line shows only at
// debug level.
func TestSystemStartIsDebug(t *testing.T) {
	for _, tc := range []struct {
		level hclog.Level
		want  string // "": no such line
	}{
		{hclog.Info, ""},
		{hclog.Debug, "[DEBUG] actor: actor system started: id="},
	} {
		var out lockedBuffer
		sys := NewSystem(hclog.New(&hclog.LoggerOptions{Name: "actor", Level: tc.level, Output: &out}))
		sys.Shutdown()
		got := out.String()
		switch {
		case tc.want == "" && strings.Contains(got, "actor system started"):
			t.Errorf("at %s: %q, want no start line", tc.level, got)
		case tc.want != "" && !strings.Contains(got, tc.want):
			t.Errorf("at %s: %q, want %q", tc.level, got, tc.want)
		}
	}
}
