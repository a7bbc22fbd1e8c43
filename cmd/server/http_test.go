package main

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestHTTPAddr: -http-addr serves the index page, listing the demo clip
// with its rtsp:// URL, and the clip's MJPEG stream.
func TestHTTPAddr(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, rtspURL := start(t, "-addr", "127.0.0.1:0", "-http-addr", addr)

	client := &http.Client{Timeout: 10 * time.Second}
	var resp *http.Response
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err = client.Get("http://" + addr + "/"); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	name := rtspURL[strings.LastIndex(rtspURL, "/")+1:]
	if resp.StatusCode != 200 || !strings.Contains(string(body), `data-path="`+name+`"`) || !strings.Contains(string(body), rtspURL) {
		t.Fatalf("index: %s\n%s", resp.Status, body)
	}
	resp, err = client.Get("http://" + addr + "/" + name + ".mjpg")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 4096)
	n, _ := io.ReadAtLeast(resp.Body, buf, 200)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/x-mixed-replace") ||
		!strings.Contains(string(buf[:n]), "Content-Type: image/jpeg") {
		t.Fatalf("stream: %s %q\n%q", resp.Status, resp.Header.Get("Content-Type"), buf[:n])
	}
}
