// Package web is the default display of the player: a small HTTP server on
// the loopback interface whose page shows the video with the lab client's
// four buttons (Setup, Play, Pause, Teardown), a seek bar for media of known
// length, live statistics and the text of the last failed command.
//
// Endpoints:
//
//	GET  /                      the page (self-contained: inline CSS and JS);
//	                            ?mode=3 hides Setup (Play sets up when needed),
//	                            ?mode=4 shows all four buttons
//	GET  /stats                 display.Stats as JSON
//	GET  /frame?after=N         the newest JPEG once its index is > N, waiting up
//	                            to Config.LongPoll; 204 No Content on time-out.
//	                            Headers X-Frame-Index, X-Frame-Seq, X-Frame-PTS.
//	                            With &seq=S it waits instead for a frame received
//	                            after the one numbered S by X-Frame-Seq (robust
//	                            to indexes going back after a seek).
//	GET  /stream.mjpeg          multipart/x-mixed-replace for curl, VLC, <img>
//	POST /control/setup         and play, pause, teardown; play?autosetup=1
//	                            sets up first when needed;
//	POST /control/seek?to=SEC   seeks to SEC seconds.
//
// Control endpoints answer 200 on success and 502 Bad Gateway with the
// error's text when the player reports an error (the server refused, or did
// not answer), 400 for a malformed request, 403 for a request from a page
// of another origin, and 503 when there is no player.
package web

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/display"
)

// Defaults of Config.
const (
	DefaultAddr     = "127.0.0.1:0"
	DefaultTitle    = "actorstream"
	DefaultLongPoll = 2 * time.Second
)

// Config configures a Display.
type Config struct {
	// Addr is the address to listen on; default DefaultAddr (a free port on
	// the loopback interface). The page has no authentication: keep it on
	// a loopback address.
	Addr string
	// Title is the page's title; default DefaultTitle.
	Title string
	// Controls receives the commands of the buttons; nil answers 503.
	Controls display.Controls
	// Stats gives the statistics shown; nil shows zero statistics.
	Stats display.StatsFunc
	// ThreeButtons makes the page's default mode the three-button one:
	// no Setup button, Play sets up when needed. ?mode=3 and ?mode=4
	// choose per page.
	ThreeButtons bool
	// Log, when set, hears about commands and their failures.
	Log func(string)
	// LongPoll bounds how long GET /frame waits for a new frame; default
	// DefaultLongPoll.
	LongPoll time.Duration
}

// Display is a pipeline sink of JPEG frames served to web browsers.
type Display struct {
	cfg     Config
	ln      net.Listener
	url     string
	handler http.Handler
	pages   [2][]byte // [0] four buttons, [1] three buttons

	mu      sync.Mutex
	jpeg    []byte // newest frame; never modified once published
	index   int
	pts     time.Duration
	seq     uint64        // frames published so far; 0 = none yet
	changed chan struct{} // closed and replaced when a frame is published

	ctlMu sync.Mutex // one command at a time, as with the lab's buttons
	setUp bool       // Setup succeeded and no Teardown since

	stop     chan struct{} // closed when the server stops: ends waiting handlers
	stopOnce sync.Once
	started  atomic.Bool
}

var _ pipeline.Sink[*pipeline.Frame] = (*Display)(nil)

// New listens on cfg.Addr and returns the display; the server answers once
// Run is called (earlier connections wait in the listen queue). Call Close
// if Run will never be called.
func New(cfg Config) (*Display, error) {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.Title == "" {
		cfg.Title = DefaultTitle
	}
	if cfg.LongPoll <= 0 {
		cfg.LongPoll = DefaultLongPoll
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("web display: %w", err)
	}
	d := &Display{
		cfg:     cfg,
		ln:      ln,
		url:     pageURL(ln.Addr()),
		changed: make(chan struct{}),
		stop:    make(chan struct{}),
	}
	d.pages[0] = renderPage(cfg.Title, false)
	d.pages[1] = renderPage(cfg.Title, true)
	d.handler = d.routes()
	return d, nil
}

// pageURL is the URL of the page served on addr; an unspecified address
// (0.0.0.0, ::) is reached through the loopback one.
func pageURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String() + "/"
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// URL is the address of the page, such as "http://127.0.0.1:40123/".
func (d *Display) URL() string { return d.url }

// Handler serves the display's endpoints, for mounting in another server.
// The frames it serves are those given to Run.
func (d *Display) Handler() http.Handler { return d.handler }

// Close releases the listening socket of a display whose Run is never
// called. Once Run was called it does nothing: Run releases the socket.
func (d *Display) Close() error {
	if d.started.CompareAndSwap(false, true) {
		d.stopServing()
		return d.ln.Close()
	}
	return nil
}

// Run serves the page and keeps the newest frame of in, releasing every
// frame it receives. It returns nil when in closes, ctx's error when ctx
// ends, after shutting the server down; waiting requests and MJPEG streams
// end with it.
func (d *Display) Run(ctx context.Context, in <-chan *pipeline.Frame) error {
	if !d.started.CompareAndSwap(false, true) {
		return errors.New("web display: Run called twice, or after Close")
	}
	base, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	srv := &http.Server{
		Handler:           d.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       60 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return base },
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(d.ln) }()

	var err error
	serving := true
loop:
	for {
		select {
		case <-ctx.Done():
			err = ctx.Err()
			break loop
		case serr := <-served:
			serving = false
			err = fmt.Errorf("web display: %w", serr)
			break loop
		case f, ok := <-in:
			if !ok {
				break loop
			}
			d.publish(f)
			f.Release()
		}
	}

	// Wake the handlers waiting for frames, then stop the server.
	d.stopServing()
	cancelBase()
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	if serr := srv.Shutdown(sctx); serr != nil {
		srv.Close()
	}
	cancel()
	if serving {
		<-served
	}
	return err
}

func (d *Display) stopServing() { d.stopOnce.Do(func() { close(d.stop) }) }

// publish makes a copy of f the newest frame.
func (d *Display) publish(f *pipeline.Frame) {
	data := make([]byte, len(f.Data))
	copy(data, f.Data)
	d.mu.Lock()
	d.jpeg, d.index, d.pts = data, f.Index, f.PTS
	d.seq++
	close(d.changed)
	d.changed = make(chan struct{})
	d.mu.Unlock()
}

type snapshot struct {
	jpeg    []byte
	index   int
	pts     time.Duration
	seq     uint64
	changed <-chan struct{}
}

func (d *Display) latest() snapshot {
	d.mu.Lock()
	defer d.mu.Unlock()
	return snapshot{d.jpeg, d.index, d.pts, d.seq, d.changed}
}

func (d *Display) logf(format string, args ...any) {
	if d.cfg.Log != nil {
		d.cfg.Log(fmt.Sprintf(format, args...))
	}
}

func (d *Display) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", d.servePage)
	mux.HandleFunc("GET /stats", d.serveStats)
	mux.HandleFunc("GET /frame", d.serveFrame)
	mux.HandleFunc("GET /stream.mjpeg", d.serveMJPEG)
	mux.HandleFunc("POST /control/{cmd}", d.serveControl)
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func (d *Display) servePage(w http.ResponseWriter, r *http.Request) {
	page := d.pages[0]
	switch r.URL.Query().Get("mode") {
	case "3":
		page = d.pages[1]
	case "4":
	default:
		if d.cfg.ThreeButtons {
			page = d.pages[1]
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(page)))
	w.Write(page)
}

func (d *Display) stats() display.Stats {
	if d.cfg.Stats == nil {
		return display.Stats{}
	}
	return d.cfg.Stats()
}

func (d *Display) serveStats(w http.ResponseWriter, r *http.Request) {
	b, err := d.stats().MarshalJSON()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.Write(append(b, '\n'))
}

func (d *Display) serveFrame(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after := -1
	if s := q.Get("after"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			http.Error(w, "bad after: "+s, http.StatusBadRequest)
			return
		}
		after = n
	}
	var afterSeq uint64
	bySeq := false
	if s := q.Get("seq"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			http.Error(w, "bad seq: "+s, http.StatusBadRequest)
			return
		}
		afterSeq, bySeq = n, true
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	timeout := time.NewTimer(d.cfg.LongPoll)
	defer timeout.Stop()
	for {
		f := d.latest()
		if f.seq > 0 && ((bySeq && f.seq > afterSeq) || (!bySeq && f.index > after)) {
			h.Set("Content-Type", "image/jpeg")
			h.Set("Content-Length", strconv.Itoa(len(f.jpeg)))
			h.Set("X-Frame-Index", strconv.Itoa(f.index))
			h.Set("X-Frame-Seq", strconv.FormatUint(f.seq, 10))
			h.Set("X-Frame-PTS", strconv.FormatFloat(f.pts.Seconds(), 'f', 3, 64))
			w.Write(f.jpeg)
			return
		}
		select {
		case <-f.changed:
			continue
		case <-timeout.C:
		case <-d.stop:
		case <-r.Context().Done():
			return
		}
		// No newer frame: say so, with the newest sequence number so that
		// a page that outlived an earlier server can start over.
		h.Set("X-Frame-Seq", strconv.FormatUint(f.seq, 10))
		w.WriteHeader(http.StatusNoContent)
		return
	}
}

const mjpegBoundary = "actorstreamframe"

func (d *Display) serveMJPEG(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "multipart/x-mixed-replace; boundary="+mjpegBoundary)
	h.Set("Cache-Control", "no-store")
	rc := http.NewResponseController(w)
	w.WriteHeader(http.StatusOK)
	// Each part is followed at once by the next boundary, so that viewers
	// show a frame when it arrives rather than when the next one does.
	if _, err := io.WriteString(w, "--"+mjpegBoundary+"\r\n"); err != nil {
		return
	}
	rc.Flush()
	var last uint64
	var head []byte
	for {
		f := d.latest()
		if f.seq > last {
			last = f.seq
			// A viewer that stops reading must not hold the handler forever.
			_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
			head = append(head[:0], "Content-Type: image/jpeg\r\nContent-Length: "...)
			head = strconv.AppendInt(head, int64(len(f.jpeg)), 10)
			head = append(head, "\r\nX-Frame-Index: "...)
			head = strconv.AppendInt(head, int64(f.index), 10)
			head = append(head, "\r\n\r\n"...)
			if _, err := w.Write(head); err != nil {
				return
			}
			if _, err := w.Write(f.jpeg); err != nil {
				return
			}
			if _, err := io.WriteString(w, "\r\n--"+mjpegBoundary+"\r\n"); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
		select {
		case <-f.changed:
		case <-d.stop:
			return
		case <-r.Context().Done():
			return
		}
	}
}

// sameOrigin rejects commands sent by pages of other sites: browsers send
// Origin with cross-site POSTs, which they do not stop from reaching a
// loopback server.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true // not a browser, or a same-origin request that did not say
	}
	u, err := url.Parse(o)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

func (d *Display) serveControl(w http.ResponseWriter, r *http.Request) {
	cmd := r.PathValue("cmd")
	if !sameOrigin(r) {
		http.Error(w, "cross-origin command refused", http.StatusForbidden)
		return
	}
	var run func(c display.Controls) error
	switch cmd {
	case "setup":
		run = d.setup
	case "play":
		if v := r.URL.Query().Get("autosetup"); v == "1" || v == "true" {
			run = d.setupAndPlay
		} else {
			run = display.Controls.Play
		}
	case "pause":
		run = display.Controls.Pause
	case "teardown":
		run = d.teardown
	case "seek":
		s := r.URL.Query().Get("to")
		sec, err := strconv.ParseFloat(s, 64)
		if err != nil || sec < 0 || math.IsInf(sec, 0) || math.IsNaN(sec) {
			http.Error(w, fmt.Sprintf("bad seek position %q: want seconds ≥ 0", s), http.StatusBadRequest)
			return
		}
		to := display.Seconds(sec)
		run = func(c display.Controls) error { return c.Seek(to) }
	default:
		http.Error(w, "unknown command "+strconv.Quote(cmd), http.StatusNotFound)
		return
	}
	c := d.cfg.Controls
	if c == nil {
		http.Error(w, "no player to control", http.StatusServiceUnavailable)
		return
	}
	d.ctlMu.Lock()
	err := run(c)
	d.ctlMu.Unlock()
	if err != nil {
		d.logf("%s: %v", cmd, err)
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	d.logf("%s: ok", cmd)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "OK\n")
}

// setup, teardown and setupAndPlay run with ctlMu held.

func (d *Display) setup(c display.Controls) error {
	err := c.Setup()
	if err == nil {
		d.setUp = true
	}
	return err
}

func (d *Display) teardown(c display.Controls) error {
	err := c.Teardown()
	if err == nil {
		d.setUp = false
	}
	return err
}

// setupAndPlay is the three-button Play: SETUP first unless a session
// exists, as far as this display or the player's state tell.
func (d *Display) setupAndPlay(c display.Controls) error {
	st := d.stats().State
	need := !d.setUp
	switch st {
	case actors.Init:
		need = true
	case actors.Ready, actors.Playing:
		need = false
	}
	if need {
		if err := d.setup(c); err != nil {
			return err
		}
	}
	return c.Play()
}

func renderPage(title string, three bool) []byte {
	mode, setupAttr := "4", ""
	if three {
		mode, setupAttr = "3", " hidden"
	}
	return []byte(strings.NewReplacer(
		"{{TITLE}}", html.EscapeString(title),
		"{{MODE}}", mode,
		"{{SETUP_ATTR}}", setupAttr,
	).Replace(pageHTML))
}
