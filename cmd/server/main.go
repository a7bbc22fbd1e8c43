// Command server streams MJPEG files over RTSP/RTP.
//
//	server                 serve a generated demo clip on :8554
//	server 1025            the original lab's form: listen on port 1025
//	server -root DIR ...   serve the files under DIR
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/engine/demo"
	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/auth"
	"github.com/actorstream/actorstream/internal/metrics"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "passwd" {
		if err := passwd(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "server passwd:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		addr     = flag.String("addr", ":8554", "RTSP listen address")
		root     = flag.String("root", "", "directory of media files (default: a generated demo clip)")
		fps      = flag.Float64("fps", 0, "frame rate (default 20 for lab-format files, 25 otherwise)")
		mtu      = flag.Int("mtu", 1400, "largest RTP packet in bytes")
		loop     = flag.Bool("loop", false, "repeat media forever")
		timeout  = flag.Duration("session-timeout", 60*time.Second, "end sessions silent for this long")
		idle     = flag.Duration("idle-timeout", 60*time.Second, "close connections without a session that complete no request for this long")
		maxConns = flag.Int("max-conns", 4096, "most connections at once (-1: no limit)")
		perIP    = flag.Int("max-conns-per-ip", 256, "most connections from one client address (-1: no limit)")
		maxSess  = flag.Int("max-sessions", 4096, "most sessions at once; SETUP beyond gets 453 (-1: no limit)")
		logLevel = flag.String("log-level", "info", "log level: trace, debug, info, warn, error")
		logJSON  = flag.Bool("log-json", false, "log in JSON")
		tlsAddr  = flag.String("tls-addr", ":8322", "rtsps:// listen address (with -tls-cert and -tls-key)")
		tlsCert  = flag.String("tls-cert", "", "PEM certificate for rtsps://")
		tlsKey   = flag.String("tls-key", "", "PEM private key for rtsps://")
		metAddr  = flag.String("metrics-addr", "", "serve Prometheus metrics at http://ADDR/metrics (off by default)")
		users    = flag.String("users", "", "require authentication with the users in this file (see 'server passwd')")
		realm    = flag.String("realm", "actorstream", "authentication realm (must match the one the users file was made for)")
		cpuProf  = flag.String("cpuprofile", "", "write a CPU profile to this file until exit (for go tool pprof)")
		basic    = flag.Bool("allow-basic", false, "accept Basic authentication without TLS (the password then crosses the network in clear)")
	)
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: server [flags] [PORT]\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *cpuProf != "" {
		f, err := os.Create(*cpuProf)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if flag.NArg() > 1 {
		flag.Usage()
		return errors.New("too many arguments")
	}
	if flag.NArg() == 1 { // the lab's "Server.py PORT"
		port, err := strconv.Atoi(flag.Arg(0))
		if err != nil || port < 1 || port > 65535 {
			return fmt.Errorf("port %q: want a number from 1 to 65535", flag.Arg(0))
		}
		*addr = ":" + strconv.Itoa(port)
	}
	level := hclog.LevelFromString(*logLevel)
	if level == hclog.NoLevel {
		return fmt.Errorf("unknown log level %q", *logLevel)
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "actorstream", Level: level, JSONFormat: *logJSON})

	mediaDir, demoName := *root, ""
	if mediaDir == "" {
		dir, err := os.MkdirTemp("", "actorstream-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path, err := demo.WriteFile(dir, demo.Options{})
		if err != nil {
			return fmt.Errorf("generating the demo clip: %w", err)
		}
		mediaDir, demoName = dir, filepath.Base(path)
		*loop = true
	}

	var tlsConfig *tls.Config
	if *tlsCert != "" || *tlsKey != "" {
		cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			return fmt.Errorf("rtsps certificate: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}

	var met *metrics.Metrics
	if *metAddr != "" {
		met = metrics.New()
		mln, err := net.Listen("tcp", *metAddr)
		if err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", met.Handler())
		hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = hs.Serve(mln) }()
		defer hs.Close()
		fmt.Printf("metrics at http://%s/metrics\n", mln.Addr())
	}

	var authn *auth.Authenticator
	if *users != "" {
		u, err := auth.LoadUsers(*users)
		if err != nil {
			return fmt.Errorf("users file: %w", err)
		}
		authn = &auth.Authenticator{Users: u, Realm: *realm, AllowBasic: *basic}
		log.Info("authentication required", "users", u.Len(), "realm", *realm)
	}

	srv, err := server.New(server.Config{
		TLS: tlsConfig, Metrics: met, Auth: authn,
		Addr: *addr, Root: mediaDir, FPS: *fps, MTU: *mtu, Loop: *loop,
		SessionTimeout: *timeout, IdleTimeout: *idle, MaxConns: *maxConns, MaxConnsPerIP: *perIP, MaxSessions: *maxSess,
		Log: log,
	})
	if err != nil {
		return err
	}
	ln, err := srv.Listen()
	if err != nil {
		return err
	}
	printWelcome(ln.Addr().(*net.TCPAddr), mediaDir, demoName)

	served := make(chan error, 2)
	if tlsConfig != nil {
		tln, err := net.Listen("tcp", *tlsAddr)
		if err != nil {
			return err
		}
		fmt.Printf("rtsps:// on %s\n", tln.Addr())
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

func printWelcome(addr *net.TCPAddr, dir, demoName string) {
	host := "127.0.0.1"
	if addr.IP != nil && !addr.IP.IsUnspecified() {
		host = addr.IP.String()
	}
	base := fmt.Sprintf("rtsp://%s/", net.JoinHostPort(host, strconv.Itoa(addr.Port)))
	if demoName == "" {
		fmt.Printf("serving %s at %s<file>\n", dir, base)
		return
	}
	url := base + demoName
	fmt.Printf("serving the demo clip at %s\n\nplay it with:\n  ffplay -rtsp_transport tcp %s\n  go run ./cmd/client %s\n\n", url, url, url)
}
