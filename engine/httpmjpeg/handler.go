// Package httpmjpeg serves a Server's media to browsers as HTTP MJPEG:
// http://host/<path>.mjpg is a multipart/x-mixed-replace stream of the
// JPEGs of <path> (what rtsp://host/<path> names: a file under the media
// root or a live stream), which an <img> tag plays without a plugin, at
// the media's rate; http://host/ is an index page listing the paths, each
// with a player that starts when clicked and its rtsp:// URL.
//
// It resolves paths, authenticates and limits connections as the RTSP
// side does: the same catalog (nothing outside the root; 404, or 415 with
// the reason for a file it cannot play), the same users and per-path
// permissions (HTTP Digest SHA-256 and MD5, which browsers and curl
// answer; Basic only over TLS or when the server allows it), and the
// server's connection limits, which count HTTP viewers with RTSP
// connections.
package httpmjpeg

import (
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/metrics"
	"github.com/actorstream/actorstream/pipeline"
)

// Suffix ends the URL path of a stream: /<path>.mjpg.
const Suffix = ".mjpg"

// Config configures a Handler. The zero value of each field is usable.
type Config struct {
	// WriteTimeout bounds the writing of each frame to a viewer: one that
	// stops reading is dropped after it. Default DefaultWriteTimeout.
	WriteTimeout time.Duration
	// RTSPPort is the port of the rtsp:// URLs on the index page; 0
	// means the port of the server's Config.Addr.
	RTSPPort int
	// Log defaults to the server's logger, named "http".
	Log hclog.Logger
}

// Handler is the HTTP side of a Server (see the package comment). It
// takes its users, metrics and limits from the server's Config.
type Handler struct {
	srv     *server.Server
	cfg     Config
	scfg    server.Config
	log     hclog.Logger
	viewers atomic.Int64
}

// New returns the HTTP handler of srv. With the server's Config.Metrics
// set, it adds the gauge actorstream_http_viewers to them.
func New(srv *server.Server, cfg Config) *Handler {
	h := &Handler{srv: srv, cfg: cfg, scfg: srv.Config()}
	h.log = cfg.Log
	if h.log == nil {
		h.log = h.scfg.Log.Named("http")
	}
	if reg := h.scfg.Metrics.Registry(); reg != nil {
		err := reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: metrics.Namespace, Name: "http_viewers",
			Help: "HTTP MJPEG viewers being served now.",
		}, func() float64 { return float64(h.viewers.Load()) }))
		if err != nil { // a second Handler on the same metrics
			h.log.Warn("http_viewers metric not registered", "error", err)
		}
	}
	return h
}

// Viewers is the number of HTTP MJPEG viewers being served now.
func (h *Handler) Viewers() int { return int(h.viewers.Load()) }

// ServeHTTP answers GET and HEAD of the index page (/) and of streams
// (/<path>.mjpg); anything else gets 404, other methods 405.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "only GET and HEAD", http.StatusMethodNotAllowed)
		return
	}
	switch name, ok := strings.CutSuffix(r.URL.Path, Suffix); {
	case r.URL.Path == "/":
		h.index(w, r)
	case ok && len(name) > 1:
		h.stream(w, r, strings.TrimPrefix(name, "/"))
	default:
		http.NotFound(w, r)
	}
}

// stream serves one viewer of the media name: its frames as
// multipart/x-mixed-replace, paced at the media's rate, until the viewer
// goes or the media ends.
func (h *Handler) stream(w http.ResponseWriter, r *http.Request, name string) {
	if _, ok := h.authenticate(w, r, name); !ok {
		return
	}
	m, err := h.srv.Probe(name)
	var unsupported *server.UnsupportedError
	var upstream *server.UpstreamError
	switch {
	case errors.Is(err, server.ErrNoMedia):
		h.log.Debug("no such media", "name", name)
		http.NotFound(w, r)
		return
	case errors.As(err, &upstream):
		// A relayed path whose upstream fails now: the relay logged why.
		w.Header().Set("Retry-After", "5")
		http.Error(w, upstream.Why, http.StatusServiceUnavailable)
		return
	case errors.As(err, &unsupported):
		h.log.Warn("cannot play media", "name", name, "error", err)
		http.Error(w, unsupported.Error(), http.StatusUnsupportedMediaType)
		return
	case err != nil:
		h.log.Warn("cannot open media", "name", name, "error", err)
		http.Error(w, "cannot open "+name, http.StatusInternalServerError)
		return
	}
	peer, _ := netip.ParseAddrPort(r.RemoteAddr)
	ctx, release, ok := h.srv.AdmitViewer(r.Context(), peer.Addr())
	if !ok {
		h.log.Debug("viewer refused: connection limit reached", "peer", r.RemoteAddr)
		w.Header().Set("Retry-After", "10")
		http.Error(w, "too many connections", http.StatusServiceUnavailable)
		return
	}
	defer release()

	hdr := w.Header()
	hdr.Set("Content-Type", ContentType)
	hdr.Set("Cache-Control", "no-store")
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	h.viewers.Add(1)
	defer h.viewers.Add(-1)
	log := h.log.With("peer", r.RemoteAddr, "media", m.Name)
	log.Debug("viewer joined")

	p := pipeline.New()
	p.OnEvent(func(e pipeline.Event) {
		if e.Kind == pipeline.Drop {
			log.Warn("frame dropped", "error", e.Err, "stage", e.Stage)
		}
	})
	sink := &Sink{W: w, WriteTimeout: h.cfg.WriteTimeout}
	pipeline.To(p, "mjpegsink", sink, m.PacedFrames(p, time.Now()))
	err = p.Run(ctx) // ends when the viewer goes or the server shuts down
	log.Debug("viewer left", "frames", sink.Stats().Frames, "reason", err)
}
