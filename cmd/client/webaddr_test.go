package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/actorstream/actorstream/internal/enginetest"
)

// TestWebAddr: -web-addr puts the web page where it is asked (for SSH
// port forwarding), and the client says so.
func TestWebAddr(t *testing.T) {
	dir := t.TempDir()
	var clip []byte
	for i := range 5 {
		clip = append(clip, enginetest.JPEG(t, 64, 48, i)...)
	}
	if err := os.WriteFile(filepath.Join(dir, "clip.mjpeg"), clip, 0o644); err != nil {
		t.Fatal(err)
	}
	addr := startOurServer(t, dir)
	webAddr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	cmd := command(t, 30*time.Second, clientBin, "-web-addr", webAddr, "-autoplay=false", "rtsp://"+addr+"/clip.mjpeg")
	cmd.Env = append(os.Environ(), "DISPLAY=", "WAYLAND_DISPLAY=") // no browser
	var stderr enginetest.SyncBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		t.Fatalf("the client printed nothing; stderr:\n%s", stderr.String())
	}
	go io.Copy(io.Discard, stdout)
	want := "watch at http://" + webAddr + "/"
	if lines.Text() != want {
		t.Fatalf("the client printed %q, want %q", lines.Text(), want)
	}
	resp, err := http.Get("http://" + webAddr + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"state"`) {
		t.Fatalf("GET /stats at -web-addr: %s %q", resp.Status, body)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("client after SIGINT: %v\n%s", err, stderr.String())
	}
	if strings.Contains(stderr.String(), "no password") {
		t.Errorf("a loopback -web-addr warned: %s", stderr.String())
	}
}

func TestOnLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:0": true, "[::1]:8080": true, "localhost:8080": true,
		":8080": false, "0.0.0.0:8080": false, "192.168.1.5:80": false, "nonsense": false} {
		if got := onLoopback(addr); got != want {
			t.Errorf("onLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

// TestOtherPageURLs: a page on every address is also shown at the
// machine's other addresses; a page on one address only at its own.
func TestOtherPageURLs(t *testing.T) {
	if got := otherPageURLs("127.0.0.1:8080", "http://127.0.0.1:8080/"); len(got) != 0 {
		t.Errorf("loopback page: also at %q", got)
	}
	if got := otherPageURLs("192.0.2.1:8080", "http://192.0.2.1:8080/"); len(got) != 0 {
		t.Errorf("one-address page: also at %q", got)
	}
	for _, addr := range []string{":8080", "0.0.0.0:8080", "[::]:8080"} {
		for _, u := range otherPageURLs(addr, "http://127.0.0.1:8080/") {
			if u == "http://127.0.0.1:8080/" || !strings.HasSuffix(u, ":8080/") || strings.Contains(u, "[::]") || strings.Contains(u, "0.0.0.0") {
				t.Errorf("%s: also at %q", addr, u)
			}
		}
	}
}
