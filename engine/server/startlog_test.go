package server

import (
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// TestStartLogAtInfo: a server started at info level logs nothing about
// its actor system (protoactor's "actor system started: id=…" is debug).
func TestStartLogAtInfo(t *testing.T) {
	var out strings.Builder
	srv, err := New(Config{Root: t.TempDir(), Log: hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: &out})})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "actor system") {
		t.Errorf("log at info: %q", out.String())
	}
}
