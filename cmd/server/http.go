package main

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/engine/httpmjpeg"
	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/hosturl"
)

// serveHTTP serves srv's media to browsers on addr (-http-addr): the
// index page at / and http://host/<path>.mjpg for every path (see package
// httpmjpeg). stop closes it, ending every stream.
func serveHTTP(addr string, srv *server.Server, rtspPort int, log hclog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("http: %w", err)
	}
	hlog := log.Named("http")
	hs := &http.Server{
		Handler: httpmjpeg.New(srv, httpmjpeg.Config{RTSPPort: rtspPort, Log: hlog}),
		// No WriteTimeout: streams last; each frame's write has its own.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          hlog.StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Debug}),
	}
	go func() { _ = hs.Serve(ln) }()
	fmt.Printf("browsers: %s (every path as MJPEG: http://host/<path>.mjpg)\n", strings.Join(hosturl.URLs("http", ln.Addr(), ""), " "))
	return func() { hs.Close() }, nil
}
