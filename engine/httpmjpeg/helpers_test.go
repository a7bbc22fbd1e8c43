package httpmjpeg

import (
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/enginetest"
)

// testHTTP is a Server over enginetest.MediaDir (clip.mjpeg, lab.mjpeg:
// 50 frames of 64x48 each, 25 fps) with its HTTP side on a loopback port.
type testHTTP struct {
	srv *server.Server
	h   *Handler
	ts  *httptest.Server
	dir string
}

func startHTTP(t *testing.T, cfg server.Config, hcfg Config) *testHTTP {
	t.Helper()
	if cfg.Root == "" {
		cfg.Root = enginetest.MediaDir(t)
	}
	if cfg.Log == nil {
		cfg.Log = enginetest.Logger(t)
	}
	cfg.Addr = "127.0.0.1:0"
	srv, err := server.New(cfg)
	enginetest.Must(t, err)
	h := New(srv, hcfg)
	ts := httptest.NewServer(h)
	t.Cleanup(func() {
		// Close waits for every handler: bounded, so that a handler
		// that never ends fails the test rather than hanging it.
		closed := make(chan struct{})
		go func() { ts.CloseClientConnections(); ts.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Error("HTTP handlers still running 10 s after the test")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return &testHTTP{srv: srv, h: h, ts: ts, dir: cfg.Root}
}

func (th *testHTTP) url(path string) string { return th.ts.URL + "/" + path }

// get requests url and fails the test on a transport error; the body is
// closed at the end of the test.
func get(t *testing.T, method, url string, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	enginetest.Must(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	enginetest.Must(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// parts reads a stream's parts, checking the response's media type.
type parts struct {
	t  *testing.T
	mr *multipart.Reader
}

func readParts(t *testing.T, resp *http.Response) *parts {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %s: %s", resp.Status, body)
	}
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/x-mixed-replace" || params["boundary"] == "" {
		t.Fatalf("Content-Type %q (%v)", resp.Header.Get("Content-Type"), err)
	}
	return &parts{t: t, mr: multipart.NewReader(resp.Body, params["boundary"])}
}

// next reads the next part: a whole JPEG whose headers say so.
func (p *parts) next() []byte {
	p.t.Helper()
	part, err := p.mr.NextPart()
	if err != nil {
		p.t.Fatalf("next part: %v", err)
	}
	body, err := io.ReadAll(part)
	if err != nil {
		p.t.Fatalf("reading part: %v", err)
	}
	if ct := part.Header.Get("Content-Type"); ct != "image/jpeg" {
		p.t.Fatalf("part Content-Type %q", ct)
	}
	if n, err := strconv.Atoi(part.Header.Get("Content-Length")); err != nil || n != len(body) {
		p.t.Fatalf("part Content-Length %q, body %d bytes", part.Header.Get("Content-Length"), len(body))
	}
	if len(body) < 4 || body[0] != 0xFF || body[1] != 0xD8 || body[len(body)-2] != 0xFF || body[len(body)-1] != 0xD9 {
		p.t.Fatalf("part is not a whole JPEG (%d bytes)", len(body))
	}
	return body
}
