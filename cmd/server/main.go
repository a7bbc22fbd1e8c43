// Command server streams MJPEG files over RTSP/RTP.
//
//	server                 serve a generated demo clip on :8554
//	server 1025            the original lab's form: serve the working directory on port 1025
//	server -root DIR ...   serve the files under DIR
//	server passwd ...      add a user to a users file (-users)
//	server make-demo DIR   write the demo clip into DIR
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/engine/cluster"
	"github.com/actorstream/actorstream/engine/demo"
	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/auth"
	"github.com/actorstream/actorstream/internal/hosturl"
	"github.com/actorstream/actorstream/internal/metrics"
)

func main() {
	var err error
	switch {
	case len(os.Args) > 1 && os.Args[1] == "passwd":
		err = passwd(os.Args[2:])
	case len(os.Args) > 1 && os.Args[1] == "make-demo":
		err = makeDemo(os.Args[2:])
	default:
		var o options
		if o, err = parseArgs(os.Args[1:], os.Stderr); err == nil {
			err = run(o)
		}
	}
	var fe flagError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp): // -h has printed the usage
	case errors.As(err, &fe): // the flag package has said what is wrong
		os.Exit(2)
	default:
		name := "server"
		if len(os.Args) > 1 && (os.Args[1] == "passwd" || os.Args[1] == "make-demo") {
			name += " " + os.Args[1]
		}
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.cpuProf != "" {
		f, err := os.Create(o.cpuProf)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	level := hclog.LevelFromString(o.logLevel)
	if level == hclog.NoLevel {
		return fmt.Errorf("unknown log level %q", o.logLevel)
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "actorstream", Level: level, JSONFormat: o.logJSON})

	// The demo's folder is made first and the clip written into it once
	// the server has accepted the configuration, so that a mistake in it
	// is told at once, not after the seconds the clip takes.
	mediaDir := o.root
	if o.demo {
		dir, err := os.MkdirTemp("", "actorstream-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		mediaDir = dir
		o.loop = true
	}

	var tlsConfig *tls.Config
	if o.tlsCert != "" || o.tlsKey != "" {
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			return fmt.Errorf("rtsps certificate: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}

	var met *metrics.Metrics
	if o.metAddr != "" {
		met = metrics.New()
		mln, err := net.Listen("tcp", o.metAddr)
		if err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", met.Handler())
		hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = hs.Serve(mln) }()
		defer hs.Close()
		fmt.Printf("metrics at %s\n", strings.Join(hosturl.URLs("http", mln.Addr(), "metrics"), " "))
	}

	var authn *auth.Authenticator
	if o.users != "" {
		u, err := auth.LoadUsers(o.users)
		if err != nil {
			return fmt.Errorf("users file: %w", err)
		}
		authn = &auth.Authenticator{Users: u, Realm: o.realm, AllowBasic: o.basic}
		log.Info("authentication required", "users", u.Len(), "realm", o.realm)
	}

	node, err := o.cluster.join(log)
	if err != nil {
		return err
	}
	var dir server.Directory // nil unless in a cluster (not a nil *cluster.Node)
	var place server.Placement
	if node != nil {
		dir, place = node, node // placement answers only with -cluster-redirect
		defer leave(node, log)
	}

	srv, err := server.New(server.Config{
		TLS: tlsConfig, Metrics: met, Auth: authn,
		Addr: o.addr, Root: mediaDir, FPS: o.fps, MTU: o.mtu, Loop: o.loop,
		SessionTimeout: o.timeout, IdleTimeout: o.idle, LiveTimeout: o.liveTimeout, LiveTakeover: o.liveTakeover, LiveLinger: liveLinger(o.liveLinger), MaxConns: o.maxConns, MaxConnsPerIP: o.perIP, MaxSessions: o.maxSess,
		RecordDir: o.recordDir, RecordSegment: o.recordSeg,
		Sources: o.sources, SourceTransport: o.srcTransport, SourceDialect: o.srcDialect, SourceLinger: liveLinger(o.srcLinger),
		Directory: dir, Placement: place, Log: log,
	})
	if err != nil {
		return err
	}
	file := demo.FileName
	if o.demo {
		if _, err := demo.WriteFile(mediaDir, demo.Options{}); err != nil {
			return fmt.Errorf("generating the demo clip: %w", err)
		}
	} else if file, err = listMedia(os.Stdout, mediaDir, srv); err != nil {
		return err
	}
	ln, err := srv.Listen()
	if err != nil {
		return err
	}
	if node != nil {
		node.Track(srv.Origins) // the files (the demo clip), the sources
		node.ReportLoad(func() cluster.Load { return cluster.Load{Sessions: srv.Sessions(), Viewers: srv.Viewers()} })
	}
	printURLs(os.Stdout, hosturl.URLs("rtsp", ln.Addr(), file), file, o.demo)
	if node != nil {
		o.cluster.printJoined(node)
	}
	for _, src := range o.sources {
		u, _ := url.Parse(src.URL) // parseSource checked it
		fmt.Printf("relaying %s (pulled while watched) at %s\n", u.Redacted(), strings.Join(hosturl.URLs("rtsp", ln.Addr(), src.Path), " "))
	}
	if o.httpAddr != "" {
		stopHTTP, err := serveHTTP(o.httpAddr, srv, ln.Addr().(*net.TCPAddr).Port, log)
		if err != nil {
			return err
		}
		defer stopHTTP()
	}

	served := make(chan error, 2)
	if tlsConfig != nil {
		tln, err := net.Listen("tcp", o.tlsAddr)
		if err != nil {
			return err
		}
		fmt.Printf("rtsps:// at %s\n", strings.Join(hosturl.URLs("rtsps", tln.Addr(), file), " "))
		go func() { served <- srv.ServeTLS(tln) }()
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case s := <-sig:
		log.Info("shutting down", "signal", s.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	<-served
	return nil
}

// listMedia prints the media files under dir (see findMedia and
// printListing) and returns the name of the first one that plays.
func listMedia(w io.Writer, dir string, srv *server.Server) (string, error) {
	root, err := os.OpenRoot(dir) // as the server does: nothing outside dir
	if err != nil {
		return "", fmt.Errorf("media root: %w", err)
	}
	defer root.Close()
	l, err := findMedia(root.FS())
	if err != nil {
		return "", fmt.Errorf("media root: %w", err)
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return printListing(w, dir, l, srv.Probe), nil
}

// printURLs prints where file is served (urls, the loopback one first) and
// commands to play it, ready to paste; without a file, where files are.
func printURLs(w io.Writer, urls []string, file string, isDemo bool) {
	if file == "" {
		fmt.Fprintln(w, "any file under it plays at:")
		for _, u := range urls {
			fmt.Fprintf(w, "  %s<file>\n", u)
		}
		return
	}
	if isDemo {
		fmt.Fprintln(w, "serving the demo clip at:")
	} else {
		fmt.Fprintf(w, "%s at (the other files likewise):\n", file)
	}
	for _, u := range urls {
		fmt.Fprintf(w, "  %s\n", u)
	}
	fmt.Fprintf(w, "\nplay it with:\n  ffplay -rtsp_transport tcp %s\n  go run ./cmd/client %s\n\n", urls[0], urls[0])
}

// liveLinger maps the flag to Config.LiveLinger, whose zero means the
// default: -live-linger 0 means no linger at all.
func liveLinger(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}
