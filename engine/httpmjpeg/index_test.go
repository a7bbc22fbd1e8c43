package httpmjpeg

import (
	"html"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/enginetest"
)

// TestIndex: the index lists every path, live streams marked, each with a
// player that has no src until clicked and the path's rtsp:// URL; a name
// that needs escaping is escaped both in the HTML and in the URLs, which
// play.
func TestIndex(t *testing.T) {
	th := startHTTP(t, server.Config{Addr: "127.0.0.1:0"}, Config{RTSPPort: 9554})
	enginetest.Must(t, th.srv.Publish("cams/live", server.NewLive(25)))
	odd := "odd name <&>.mjpeg"
	clip, err := os.ReadFile(filepath.Join(th.dir, "clip.mjpeg"))
	enginetest.Must(t, err)
	enginetest.Must(t, os.WriteFile(filepath.Join(th.dir, odd), clip, 0o644))

	resp := get(t, "GET", th.url(""))
	b, _ := io.ReadAll(resp.Body)
	body := string(b)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("%s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`<li data-path="cams/live"><b>cams/live</b> (live)`,
		`<li data-path="clip.mjpeg">`, `<li data-path="lab.mjpeg">`,
		`data-src="/clip.mjpeg.mjpg"`, `<code>rtsp://127.0.0.1:9554/clip.mjpeg</code>`,
		`<b>odd name &lt;&amp;&gt;.mjpeg</b>`, `rtsp://127.0.0.1:9554/odd%20name%20%3C&amp;%3E.mjpeg`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("index lacks %q", want)
		}
	}
	if strings.Contains(body, "<img src") || strings.Contains(body, "http://") || strings.Contains(body, "https://") {
		t.Error("the index loads something by itself (an <img src> or an external asset)")
	}
	// The odd name's player URL, as the page gives it, plays.
	m := regexp.MustCompile(`data-src="([^"]*odd[^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no player for the odd name")
	}
	readParts(t, get(t, "GET", th.ts.URL+html.UnescapeString(m[1]))).next()

	if resp := get(t, "HEAD", th.url("")); resp.StatusCode != 200 {
		t.Errorf("HEAD /: %s", resp.Status)
	}
}
