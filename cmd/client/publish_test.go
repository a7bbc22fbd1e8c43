package main

import (
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/internal/enginetest"
)

// client -publish against our server: a looping publication runs until
// Ctrl-C, which tears it down and exits 0 with a summary; a second
// publisher on the same path exits 1 and says the server's 455 and why.
func TestPublishCommand(t *testing.T) {
	needMedia(t)
	addr := startOurServer(t, t.TempDir())
	url := "rtsp://" + addr + "/live/cam"

	first := command(t, 60*time.Second, clientBin, "-publish", clipPath, "-publish-loop", "-transport", "tcp", "-log-level", "debug", url)
	var firstErr enginetest.SyncBuffer
	first.Stderr = &firstErr
	enginetest.Must(t, first.Start())
	exited := make(chan error, 1)
	go func() { exited <- first.Wait() }()

	// The path plays once the publication is under way.
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := client.Dial(t.Context(), client.Config{URL: url, Transport: "tcp", Log: enginetest.Logger(t)})
		if err == nil {
			err = c.Setup()
			c.Close()
			if err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the published path never became playable: %v\n%s", err, firstErr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	second := command(t, 30*time.Second, clientBin, "-publish", clipPath, url)
	out, err := second.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("second publisher: %v, want exit status 1\n%s", err, out)
	}
	if !strings.Contains(string(out), "455") || !strings.Contains(string(out), "another publisher") {
		t.Errorf("second publisher said:\n%s", out)
	}

	enginetest.Must(t, syscall.Kill(first.Process.Pid, syscall.SIGINT))
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("after Ctrl-C: %v\n%s", err, firstErr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no exit after Ctrl-C\n%s", firstErr.String())
	}
	for _, want := range []string{"interrupted; tearing down", "method=TEARDOWN", "publishing summary"} {
		if !strings.Contains(firstErr.String(), want) {
			t.Errorf("the publisher's log lacks %q:\n%s", want, firstErr.String())
		}
	}
}
