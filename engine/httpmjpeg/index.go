package httpmjpeg

import (
	"bytes"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// indexPage is the index: plain HTML, no external assets. Each player is
// an <img> whose src is set only when its button is clicked (and removed
// again to stop), so that opening a page of a hundred paths starts no
// stream at all.
var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>actorstream</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font: 15px system-ui, sans-serif; margin: 1.5em; }
ul { padding: 0; } li { list-style: none; margin: 0 0 1.5em; }
img { display: block; max-width: 100%; margin-top: .5em; }
img:not([src]) { display: none; }
code { user-select: all; }
</style></head>
<body>
<h1>actorstream</h1>
{{if .}}<ul>
{{range .}}<li data-path="{{.Name}}"><b>{{.Name}}</b>{{if .Live}} (live){{end}}
<button type="button" data-src="{{.Stream}}">Play</button>
<code>{{.RTSP}}</code>
<img alt="{{.Name}}">
</li>
{{end}}</ul>
{{else}}<p>Nothing to play.</p>
{{end}}<script>
for (const b of document.querySelectorAll("button[data-src]")) {
  b.addEventListener("click", () => {
    const img = b.parentElement.querySelector("img");
    if (img.hasAttribute("src")) {
      img.removeAttribute("src"); // ends the stream
      b.textContent = "Play";
    } else {
      img.src = b.dataset.src;
      b.textContent = "Stop";
    }
  });
}
</script>
</body></html>
`))

// entry is one path of the index page.
type entry struct {
	Name   string
	Live   bool
	Stream string // the player's URL, relative to the page
	RTSP   string
}

// index lists the paths the user may watch.
func (h *Handler) index(w http.ResponseWriter, r *http.Request) {
	user, ok := h.authenticate(w, r, "")
	if !ok {
		return
	}
	host := r.Host
	if hn, _, err := net.SplitHostPort(host); err == nil {
		host = hn
	}
	rtspBase := "rtsp://" + net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(h.rtspPort())) + "/"
	var entries []entry
	for _, p := range h.srv.Paths() {
		if !h.allowed(user, p.Name) {
			continue
		}
		escaped := escapePath(p.Name)
		entries = append(entries, entry{Name: p.Name, Live: p.Live, Stream: "/" + escaped + Suffix, RTSP: rtspBase + escaped})
	}
	var body bytes.Buffer
	if err := indexPage.Execute(&body, entries); err != nil {
		h.log.Warn("index page", "error", err)
		http.Error(w, "index page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(body.Len()))
	if r.Method != http.MethodHead {
		_, _ = w.Write(body.Bytes())
	}
}

// escapePath percent-encodes each segment of a media path for a URL.
func escapePath(name string) string {
	segs := strings.Split(name, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// rtspPort is the port the index's rtsp:// URLs name.
func (h *Handler) rtspPort() int {
	if h.cfg.RTSPPort > 0 {
		return h.cfg.RTSPPort
	}
	if _, port, err := net.SplitHostPort(h.scfg.Addr); err == nil {
		if n, err := strconv.Atoi(port); err == nil && n > 0 {
			return n
		}
	}
	return 8554
}
