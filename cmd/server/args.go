package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/actorstream/actorstream/engine/server"
)

// options are the server's command line, parsed.
type options struct {
	addr, root       string
	fps              float64
	mtu              int
	loop             bool
	timeout, idle    time.Duration
	liveLinger       time.Duration
	liveTimeout      time.Duration
	liveTakeover     bool
	maxConns, perIP  int
	maxSess          int
	logLevel         string
	logJSON          bool
	tlsAddr, tlsCert string
	tlsKey, metAddr  string
	users, realm     string
	cpuProf          string
	basic            bool
	httpAddr         string
	recordDir        string          // record live paths under it (see server.Config.RecordDir)
	recordSeg        time.Duration   // one file per this much of a recording
	demo             bool            // no -root and no PORT: serve the generated demo clip
	sources          []server.Source // -source PATH=URL, repeatable
	srcTransport     string
	srcDialect       string
	srcLinger        time.Duration
	cluster          clusterOptions // -cluster-listen, -cluster-seeds, -public-url (cluster.go)
	addrSet, rootSet bool
}

// flagError is a mistake in the flags that the flag package has already
// reported, with the usage, on its output: main only sets the exit status.
type flagError struct{ error }

// parseArgs reads the command line (without the program's name). The lab's
// form "server PORT" serves the working directory on :PORT, as the lab's
// Server.py did; flags may stand before PORT, after it or both ("server
// 8554 -root x"). Without PORT and -root the server makes and serves its
// demo clip. -h returns flag.ErrHelp, having printed the usage on out.
func parseArgs(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.addr, "addr", ":8554", "RTSP listen address")
	fs.StringVar(&o.root, "root", "", "directory of media files (default: the working directory with PORT, else a generated demo clip)")
	fs.Float64Var(&o.fps, "fps", 0, "frame rate, above 0 and at most 1000 (default 20 for lab-format files, 25 otherwise)")
	fs.IntVar(&o.mtu, "mtu", 1400, "largest RTP packet in bytes")
	fs.BoolVar(&o.loop, "loop", false, "repeat media forever")
	fs.DurationVar(&o.timeout, "session-timeout", 60*time.Second, "end sessions silent for this long")
	fs.DurationVar(&o.idle, "idle-timeout", 60*time.Second, "close connections without a session that complete no request for this long")
	fs.DurationVar(&o.liveLinger, "live-linger", 5*time.Second, "when a publisher ends, its viewers wait this long for a new one before the stream ends (0: not at all)")
	fs.DurationVar(&o.liveTimeout, "live-timeout", 10*time.Second, "end a publisher that sends no complete frame for this long")
	fs.BoolVar(&o.liveTakeover, "live-takeover", false, "a new publisher on a busy path replaces the old one (default: refused with 455)")
	fs.IntVar(&o.maxConns, "max-conns", 4096, "most connections at once (-1: no limit)")
	fs.IntVar(&o.perIP, "max-conns-per-ip", 256, "most connections from one client address (-1: no limit)")
	fs.IntVar(&o.maxSess, "max-sessions", 4096, "most sessions at once; SETUP beyond gets 453 (-1: no limit)")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: trace, debug, info, warn, error")
	fs.BoolVar(&o.logJSON, "log-json", false, "log in JSON")
	fs.StringVar(&o.tlsAddr, "tls-addr", ":8322", "rtsps:// listen address (with -tls-cert and -tls-key)")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "PEM certificate for rtsps://")
	fs.StringVar(&o.tlsKey, "tls-key", "", "PEM private key for rtsps://")
	fs.StringVar(&o.metAddr, "metrics-addr", "", "serve Prometheus metrics at http://ADDR/metrics (off by default)")
	fs.StringVar(&o.users, "users", "", "require authentication with the users in this file (see 'server passwd')")
	fs.StringVar(&o.realm, "realm", "actorstream", "authentication realm (must match the one the users file was made for)")
	fs.StringVar(&o.cpuProf, "cpuprofile", "", "write a CPU profile to this file until exit (for go tool pprof)")
	fs.BoolVar(&o.basic, "allow-basic", false, "accept Basic authentication without TLS (the password then crosses the network in clear)")
	fs.StringVar(&o.httpAddr, "http-addr", "", "serve every path to browsers as MJPEG at http://ADDR/<path>.mjpg, with an index page (off by default)")
	fs.StringVar(&o.recordDir, "record-dir", "", "record every live path (published or relayed) to DIR/<path>/<UTC start time>.avi; a folder under -root makes the recordings playable (off by default)")
	fs.DurationVar(&o.recordSeg, "record-segment", 10*time.Minute, "start a new recording file this often, at least 1s (with -record-dir)")
	// Checked after parsing: the flag package's own message would repeat
	// the value, password included.
	var sources []string
	fs.Func("source", "relay an RTSP camera or server at PATH, pulled while watched: PATH=rtsp://[user:pw@]host[:port]/stream (repeatable)", func(v string) error {
		sources = append(sources, v)
		return nil
	})
	var sourceFile string
	fs.StringVar(&sourceFile, "source-file", "", "relay the sources listed in FILE, a PATH=URL per line (# comments): keeps camera passwords out of the process list")
	var sourceCA string
	fs.StringVar(&sourceCA, "source-ca", "", "trust the certificates in this PEM file for rtsps:// sources, besides the system's (a camera's self-signed certificate)")
	fs.StringVar(&o.srcTransport, "source-transport", "tcp", "how relayed upstreams send media: tcp (interleaved: crosses NATs and firewalls, loses nothing), udp or auto")
	fs.StringVar(&o.srcDialect, "source-dialect", "rfc", "RTSP dialect of relayed upstreams: rfc, lab or auto")
	fs.DurationVar(&o.srcLinger, "source-linger", 10*time.Second, "keep pulling a relayed upstream this long after its last viewer left")
	o.cluster.flags(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: server [flags] [PORT]\n"+
			"       server passwd [-realm R] [-paths a,b/**] FILE USER\n"+
			"       server make-demo DIR\n\n"+
			"PORT (the lab's \"Server.py PORT\") listens on :PORT and, without -root,\n"+
			"serves the working directory. With neither, the server serves a generated\n"+
			"demo clip. Flags may come before or after PORT.\n\n")
		fs.PrintDefaults()
	}

	// flag.Parse stops at the first argument that is not a flag: parse the
	// flags, take PORT, parse the flags after it.
	var port string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return o, err
			}
			return o, flagError{err}
		}
		if fs.NArg() == 0 {
			break
		}
		if port != "" {
			return o, fmt.Errorf("unexpected argument %q after PORT %s: give at most one PORT", fs.Arg(0), port)
		}
		port, rest = fs.Arg(0), fs.Args()[1:]
	}
	for _, v := range sources {
		src, err := parseSource(v)
		if err != nil {
			return o, fmt.Errorf("-source: %w", err)
		}
		o.sources = append(o.sources, src)
	}
	if sourceFile != "" {
		srcs, err := readSources(sourceFile)
		if err != nil {
			return o, err
		}
		o.sources = append(o.sources, srcs...)
	}
	if sourceCA != "" {
		tc, err := trustFile(sourceCA)
		if err != nil {
			return o, fmt.Errorf("-source-ca: %w", err)
		}
		for i := range o.sources {
			o.sources[i].TLS = tc
		}
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "addr":
			o.addrSet = true
		case "root":
			o.rootSet = true
		}
	})
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return o, fmt.Errorf("PORT %q: want a number from 1 to 65535", port)
		}
		if o.addrSet {
			return o, fmt.Errorf("PORT %s and -addr %s both say where to listen: give one of them", port, o.addr)
		}
		o.addr = ":" + strconv.Itoa(n)
		if !o.rootSet {
			o.root = "." // Server.py served the folder it was started in
		}
	}
	if err := o.cluster.check(o.addr); err != nil {
		return o, err
	}
	if o.root == "" {
		if o.rootSet {
			return o, errors.New("-root: want a directory (-root . for the working directory)")
		}
		o.demo = true
	}
	return o, nil
}

// parseSource reads one -source: PATH=URL. Errors never repeat the URL,
// which may hold a password.
func parseSource(v string) (server.Source, error) {
	path, raw, ok := strings.Cut(v, "=")
	path = strings.Trim(path, "/")
	if !ok || path == "" {
		return server.Source{}, errors.New("want PATH=rtsp://[user:pw@]host[:port]/stream")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "rtsp" && u.Scheme != "rtsps") || u.Host == "" {
		return server.Source{}, fmt.Errorf("%s: the upstream must be an rtsp:// or rtsps:// URL", path)
	}
	return server.Source{Path: path, URL: raw}, nil
}

// readSources reads a -source-file: a PATH=URL per line, blank lines and
// lines starting with # ignored. Errors name the line, not its URL.
func readSources(name string) ([]server.Source, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("-source-file: %w", err)
	}
	var srcs []server.Source
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		src, err := parseSource(line)
		if err != nil {
			return nil, fmt.Errorf("-source-file %s line %d: %w", name, i+1, err)
		}
		srcs = append(srcs, src)
	}
	return srcs, nil
}

// trustFile is a TLS client configuration trusting the system's
// certificates and those of the PEM file name.
func trustFile(name string) (*tls.Config, error) {
	pem, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool() // no system pool here: the file alone
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificate in it", name)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}
