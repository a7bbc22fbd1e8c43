package logbridge

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// TestDemote: the named messages are logged at debug level, with their
// attributes; others keep their level.
func TestDemote(t *testing.T) {
	for _, tc := range []struct {
		level    hclog.Level
		want     []string
		wantNone string
	}{
		{hclog.Info, []string{"[INFO]  t: other: a=1"}, "routine"},
		{hclog.Debug, []string{"[DEBUG] t: routine: a=1 id=7", "[DEBUG] t: noisy: a=1", "[INFO]  t: other: a=1"}, ""},
	} {
		var buf bytes.Buffer
		h := Demote(New(hclog.New(&hclog.LoggerOptions{Name: "t", Level: tc.level, Output: &buf})), "routine", "noisy")
		log := slog.New(h).With("a", 1)
		log.Info("routine", "id", 7)
		log.Warn("noisy")
		log.Info("other")
		out := buf.String()
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("at %s: %q lacks %q", tc.level, out, w)
			}
		}
		if tc.wantNone != "" && (strings.Contains(out, "routine") || strings.Contains(out, "noisy")) {
			t.Errorf("at %s: %q has a demoted record", tc.level, out)
		}
	}
}
