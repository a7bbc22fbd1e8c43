package logbridge

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestHandlerRoutesLevelsAndAttrs(t *testing.T) {
	var buf bytes.Buffer
	base := hclog.New(&hclog.LoggerOptions{Name: "test", Level: hclog.Info, Output: &buf})
	log := NewLogger(base).With("system", "s1").WithGroup("req")

	log.Debug("hidden")
	log.Info("hello", "id", 7, slog.Group("peer", "port", 5000))
	log.Error("boom")

	out := buf.String()
	if strings.Contains(out, "hidden") {
		t.Errorf("debug record printed at info level:\n%s", out)
	}
	for _, want := range []string{"[INFO]  test: hello", "system=s1", "req.id=7", "req.peer.port=5000", "[ERROR] test: boom"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestLevelMapping(t *testing.T) {
	cases := map[slog.Level]hclog.Level{
		slog.LevelDebug - 4: hclog.Trace,
		slog.LevelDebug:     hclog.Debug,
		slog.LevelInfo:      hclog.Info,
		slog.LevelWarn:      hclog.Warn,
		slog.LevelError:     hclog.Error,
	}
	for in, want := range cases {
		if got := Level(in); got != want {
			t.Errorf("Level(%v) = %v, want %v", in, got, want)
		}
	}
}
