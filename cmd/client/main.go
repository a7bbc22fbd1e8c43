// Command client plays an RTSP MJPEG stream.
//
//	client rtsp://127.0.0.1:8554/demo.mjpeg        the RFC dialect
//	client HOST PORT RTP_PORT FILE                  the original lab's form
//
// See -help for displays, recording and statistics.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/internal/hosturl"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/display"
	"github.com/actorstream/actorstream/pipeline/display/none"
	"github.com/actorstream/actorstream/pipeline/display/term"
	"github.com/actorstream/actorstream/pipeline/display/web"
	"github.com/actorstream/actorstream/pipeline/stages/receive"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
}

type options struct {
	url, dialect, transport   string
	rtpPort                   int
	displayKind, webAddr      string
	record, recordFormat      string
	duration                  time.Duration
	frames                    int
	logLevel                  string
	stats, autoplay, threeBtn bool
	caFile                    string
	user, password            string
	insecure                  bool
	publish                   string
	publishLoop               bool
	publishFPS                float64
}

func parseArgs() (options, error) {
	var o options
	flag.StringVar(&o.dialect, "dialect", "", "rfc, lab or auto (default rfc for a URL, auto for the lab's HOST PORT RTP_PORT FILE)")
	flag.StringVar(&o.transport, "transport", "auto", "udp, tcp, or auto (UDP, then TCP when no RTP arrives within 2 s)")
	flag.IntVar(&o.rtpPort, "rtp-port", 0, "local RTP port, RTCP on the next one (default: a free even port)")
	flag.StringVar(&o.displayKind, "display", "web", "web, term or none")
	flag.StringVar(&o.webAddr, "web-addr", web.DefaultAddr, "web display: the page's listen address, e.g. 127.0.0.1:8080 for SSH port forwarding; port 0: any free one")
	flag.StringVar(&o.record, "record", "", "write the received frames to this file")
	flag.StringVar(&o.recordFormat, "record-format", "", "avi (keeps the frame rate; default for .avi names), raw (concatenated JPEG; default otherwise) or lab (5-digit length headers)")
	flag.DurationVar(&o.duration, "duration", 0, "stop after this long (0: until the stream ends)")
	flag.IntVar(&o.frames, "frames", 0, "stop after this many frames (0: no limit)")
	flag.StringVar(&o.logLevel, "log-level", "info", "trace, debug, info, warn or error")
	flag.BoolVar(&o.stats, "stats", false, "print a JSON summary of the session at exit")
	flag.BoolVar(&o.autoplay, "autoplay", true, "set up and play at once (false: wait for the buttons)")
	flag.BoolVar(&o.threeBtn, "three-buttons", false, "web display: Play sets up by itself (the lab's three-button variant)")
	flag.StringVar(&o.caFile, "ca", "", "rtsps://: trust the certificates in this PEM file")
	flag.StringVar(&o.user, "user", "", "user name for servers that ask (or rtsp://user:password@host/...)")
	flag.StringVar(&o.password, "password", "", "password for servers that ask (default: $ACTORSTREAM_PASSWORD)")
	flag.BoolVar(&o.insecure, "insecure", false, "rtsps://: do not verify the server's certificate (testing only)")
	flag.StringVar(&o.publish, "publish", "", "send this media file to the server (ANNOUNCE, RECORD) instead of playing; -transport udp (default) or tcp")
	flag.BoolVar(&o.publishLoop, "publish-loop", false, "-publish: send the file again and again until Ctrl-C")
	flag.Float64Var(&o.publishFPS, "publish-fps", 0, "-publish: frame rate of files that state none (default: 25, 20 for lab files; a container's rate and a .fps file win)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: client [flags] rtsp://host:port/path\n       client [flags] HOST PORT RTP_PORT FILE\n       client -publish FILE [flags] rtsp://host:port/path\n\n")
		flag.PrintDefaults()
	}
	args := parseInterleaved(os.Args[1:])
	switch len(args) {
	case 1:
		o.url = args[0]
		if o.dialect == "" {
			o.dialect = "rfc"
		}
	case 4: // ClientLauncher.py HOST PORT RTP_PORT FILE
		port, err := strconv.Atoi(args[1])
		if err != nil || port < 1 || port > 65535 {
			return o, fmt.Errorf("PORT %q: want 1..65535", args[1])
		}
		rtpPort, err := strconv.Atoi(args[2])
		if err != nil || rtpPort < 1 || rtpPort > 65534 {
			return o, fmt.Errorf("RTP_PORT %q: want 1..65534", args[2])
		}
		o.url = "rtsp://" + net.JoinHostPort(args[0], strconv.Itoa(port)) + "/" + args[3]
		o.rtpPort = rtpPort
		if o.dialect == "" {
			o.dialect = "auto"
		}
	default:
		flag.Usage()
		return o, errors.New("want a URL, or HOST PORT RTP_PORT FILE")
	}
	return o, nil
}

// parseInterleaved parses flags wherever they stand among the positional
// arguments (flag.Parse stops at the first of those, and people write
// "client URL -display none" as often as the other way round), returning
// the positional ones.
func parseInterleaved(rest []string) []string {
	var args []string
	for {
		_ = flag.CommandLine.Parse(rest) // ExitOnError: exits on a bad flag
		rest = flag.Args()
		if len(rest) == 0 {
			return args
		}
		args, rest = append(args, rest[0]), rest[1:]
	}
}

func run() error {
	o, err := parseArgs()
	if err != nil {
		return err
	}
	level := hclog.LevelFromString(o.logLevel)
	if level == hclog.NoLevel {
		return fmt.Errorf("unknown log level %q", o.logLevel)
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "client", Level: level})
	if o.publish != "" {
		return publish(o, log)
	}

	recFormat, err := client.RecordFormatFor(o.record, o.recordFormat)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var (
		player *client.Client
		show   client.Output
		webUI  *web.Display
	)
	statsFn := func() display.Stats {
		if player == nil {
			return display.Stats{State: actors.Init}
		}
		return player.Stats()
	}
	controls := &lazyControls{get: func() *client.Client { return player }}
	switch o.displayKind {
	case "none":
		show = func(p *pipeline.Pipeline, frames <-chan *pipeline.Frame) {
			pipeline.To(p, "display", &none.Display{}, frames)
		}
	case "term":
		t := term.New(term.Config{Out: os.Stdout, In: os.Stdin, Controls: controls, Stats: statsFn})
		show = func(p *pipeline.Pipeline, frames <-chan *pipeline.Frame) {
			pipeline.To(p, "display", t, pipeline.Then(p, "decoder", &receive.Decoder{}, frames))
		}
	case "web":
		webUI, err = web.New(web.Config{Addr: o.webAddr, Title: redacted(o.url), Controls: controls, Stats: statsFn, ThreeButtons: o.threeBtn})
		if err != nil {
			return err
		}
		if !onLoopback(o.webAddr) {
			log.Warn("the web page has no password: whoever reaches it controls the player", "web_addr", o.webAddr)
		}
		show = func(p *pipeline.Pipeline, frames <-chan *pipeline.Frame) {
			pipeline.To(p, "display", webUI, frames)
		}
	default:
		return fmt.Errorf("display %q: want web, term or none", o.displayKind)
	}
	out := show
	var prog *progress
	if o.record != "" {
		recFile, err := os.Create(o.record)
		if err != nil {
			return err
		}
		defer recFile.Close()
		prog = newProgress(os.Stderr, func() int64 { return fileSize(recFile) })
		out = recordTo(recFile, recFormat, show, prog)
	}

	tlsConfig, err := clientTLS(o.caFile, o.insecure)
	if err != nil {
		return err
	}
	player, err = client.Dial(ctx, client.Config{
		URL: o.url, TLS: tlsConfig, User: o.user, Password: password(o.password), Dialect: o.dialect, Transport: o.transport, RTPPort: o.rtpPort,
		Output: out, MaxFrames: o.frames, Reusable: o.displayKind == "web", Log: log,
	})
	if err != nil {
		return err
	}
	defer player.Close()
	if webUI != nil {
		fmt.Printf("watch at %s\n", webUI.URL())
		for _, u := range otherPageURLs(o.webAddr, webUI.URL()) {
			fmt.Printf("  also at %s\n", u)
		}
		_ = web.OpenBrowser(webUI.URL())
	}
	if o.autoplay {
		if err := player.Setup(); err != nil {
			return err
		}
		if err := player.Play(); err != nil {
			return err
		}
	}
	var limit <-chan time.Time
	if o.duration > 0 {
		limit = time.After(o.duration)
	}
	select {
	case <-player.Done():
	case <-ctx.Done():
		log.Info("interrupted; tearing down")
	case <-limit:
		log.Info("duration reached; tearing down", "duration", o.duration)
	}
	if prog != nil {
		prog.endLine() // the log's lines start on lines of their own
	}
	closeErr := player.Close()
	if prog != nil {
		prog.summary(o.record)
	}
	st := player.Stats()
	log.Info("session summary", "frames", st.Frames, "dropped", st.FramesDropped, "lost", st.Receiver.PacketsLost,
		"loss_percent", fmt.Sprintf("%.2f", st.Receiver.LossPercent), "jitter_ms", fmt.Sprintf("%.2f", st.Receiver.JitterMS),
		"first_frame_ms", fmt.Sprintf("%.1f", st.TimeToFirstFrameMs))
	if o.stats {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(st)
	}
	if err := player.Err(); err != nil {
		return err
	}
	return closeErr
}

// lazyControls lets displays exist before the client does.
type lazyControls struct{ get func() *client.Client }

func (l *lazyControls) Setup() error                { return l.get().Setup() }
func (l *lazyControls) Play() error                 { return l.get().Play() }
func (l *lazyControls) Pause() error                { return l.get().Pause() }
func (l *lazyControls) Teardown() error             { return l.get().Teardown() }
func (l *lazyControls) Seek(to time.Duration) error { return l.get().Seek(to) }

// recordTo records into f ahead of the display show (client.Recording),
// telling the recording's progress through prog.
func recordTo(f *os.File, format client.RecordFormat, show client.Output, prog *progress) client.Output {
	return func(p *pipeline.Pipeline, frames <-chan *pipeline.Frame) {
		p.OnEvent(func(e pipeline.Event) { // on the recorder's goroutine
			if e.Stage == "recorder" && e.Kind == pipeline.Progress {
				prog.add(time.Now(), int(e.N))
			}
		})
		client.Recording(f, format, show)(p, frames)
	}
}

// fileSize is f's size, 0 if it cannot be known.
func fileSize(f *os.File) int64 {
	if fi, err := f.Stat(); err == nil {
		return fi.Size()
	}
	return 0
}

// onLoopback reports whether addr (host:port) is on the loopback interface
// only.
func onLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// otherPageURLs are the web page's URLs beyond page (its loopback one)
// when it listens on every address (-web-addr :8080): one for each of the
// machine's addresses (internal/hosturl).
func otherPageURLs(webAddr, page string) []string {
	host, _, err := net.SplitHostPort(webAddr)
	if err != nil {
		return nil
	}
	u, err := url.Parse(page)
	if err != nil {
		return nil
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		return nil
	}
	ip := net.IPv6unspecified
	switch {
	case host == "0.0.0.0":
		ip = net.IPv4zero
	case host != "" && host != "::":
		return nil // one address: page is the URL
	}
	urls := hosturl.URLs("http", &net.TCPAddr{IP: ip, Port: port}, "")
	if len(urls) > 0 && urls[0] == page {
		urls = urls[1:]
	}
	return urls
}

// clientTLS builds the rtsps:// configuration from -ca and -insecure.
func clientTLS(caFile string, insecure bool) (*tls.Config, error) {
	cfg := &tls.Config{InsecureSkipVerify: insecure, MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificates", caFile)
		}
	}
	return cfg, nil
}

// redacted is rawURL with its password, if any, replaced by "xxxxx".
func redacted(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	return u.Redacted()
}

// password is -password, or $ACTORSTREAM_PASSWORD so that it need not
// show in the process list.
func password(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	return os.Getenv("ACTORSTREAM_PASSWORD")
}
