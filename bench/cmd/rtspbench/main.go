// Command rtspbench measures how many RTSP viewers a server holds and what
// each RTP packet costs it, side by side for our server, GStreamer's
// (gst-rtsp-server), one built on gortsplib, and a raw sender that is the
// floor (the same packets, no RTSP). See BENCHMARKS.md at the repository
// root for the method.
//
//	cd bench && go run ./cmd/rtspbench                 # the full comparison
//	cd bench && go run ./cmd/rtspbench -smoke          # seconds: does it all still work?
//	go run ./cmd/rtspbench -url rtsp://… -pid PID      # any running server
//	go run ./cmd/rtspbench wakecost                    # what a sleep and wake-up costs here
//	go run ./cmd/rtspbench -before DIR -runs 4         # also cmd/server of checkout DIR, as "before": ours/before
//	go run ./cmd/rtspbench -mode live                  # one publisher → N readers of a live path
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "rawsend" {
		if err := rawSendMain(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "rawsend:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "wakecost" {
		if err := wakeCostMain(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "wakecost:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "rtspbench:", err)
		os.Exit(1)
	}
}

type options struct {
	servers    []string
	media      []string // name:fps
	ramp       []int
	fixed      []int
	sample     int
	warmup     time.Duration
	window     time.Duration
	runs       int
	tcp        bool
	rawPerDst  bool
	jsonOut    string
	url        string
	pid        int
	smoke      bool
	oursDir    string
	beforeDir  string // checkout the "before" server is built from; "" = none
	metricsURL string
	client     string  // medium for the client measurement; "" skips it
	live       bool    // -mode live: ours, gortsplib and before are their live servers
	latencyAt  float64 // live servers: a last step at this fraction of their ramp's held sessions
	publisher  string  // live servers' publisher: ours or ffmpeg

	// oursName and beforeName are what ours and before are called in
	// the records: "ours-live" and "before-live" in live mode. The
	// summary's ratios are oursName/this.
	oursName, beforeName string

	// oursID and beforeID say which checkout and commit each build is,
	// for the report (set with -before).
	oursID, beforeID string
}

// liveServers is -mode live's default -servers: the two live servers,
// the floor and our file path, which the targets compare.
const liveServers = "ours,gortsplib,raw-gso-mmsg,ours-file"

func parseFlags() (*options, error) {
	o := &options{}
	var err error
	servers := flag.String("servers", "ours,gortsplib,gst,raw-gso,raw-gso-mmsg,raw-sendmmsg", "servers to measure: ours, before (needs -before), gortsplib, gst, and the raw sender (no RTSP) as raw-gso, raw-gso-mmsg, raw-sendmmsg or raw-sendto; ours-live, gortsplib-live (published live paths) and ours-file in either mode (-mode live default: "+liveServers+")")
	media := flag.String("media", "vga420:30,lab:30", "media:fps list; vga420 = 640x480 4:2:0 made by ffmpeg, lab = the lab's movie.Mjpeg as 4:2:0 (-mode live default: vga420:30)")
	ramp := flag.String("ramp", "1,50,100,200,400,800,1200", "session counts to ramp through (a server's ramp stops at the first step over a threshold)")
	fixed := flag.String("fixed", "200,1000", "session counts always measured, for CPU per packet at a fixed load (-mode live default: 100,1000)")
	mode := flag.String("mode", "file", "file: the servers play the media file; live: ours, gortsplib and before are started as live servers, each published the medium by one -publisher, their sessions reading the live path (ours-file and raw-* stay as in file mode, for comparison)")
	flag.Float64Var(&o.latencyAt, "latency-at", 0.8, "after the ramp of a live server published by our publisher, one more step at this fraction of the sessions it held, for the added latency at that load (0: none)")
	flag.StringVar(&o.publisher, "publisher", "ours", "live servers' publisher: ours (in rtspbench: RTSP/UDP, and the added-latency columns) or ffmpeg (-re -stream_loop -1 … -c:v copy -f rtsp, UDP; no latency)")
	flag.IntVar(&o.sample, "sample", 50, "sessions per step that are fully checked (the rest are bound, never read)")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "time between the last PLAY and the measurement window")
	flag.DurationVar(&o.window, "window", 8*time.Second, "measurement window per step")
	flag.IntVar(&o.runs, "runs", 1, "repeat everything this many times; the summary gives median and spread")
	transport := flag.String("transport", "udp", "udp or tcp (interleaved)")
	flag.BoolVar(&o.rawPerDst, "raw-socket-per-session", false, "the raw sender uses a socket per receiver instead of one shared socket per core")
	flag.StringVar(&o.jsonOut, "json", "", "also write every step as JSON to this file")
	flag.StringVar(&o.url, "url", "", "measure only this running server (needs -pid)")
	flag.IntVar(&o.pid, "pid", 0, "the -url server's process id")
	flag.StringVar(&o.metricsURL, "metrics", "", "with -url: our server's /metrics URL, for its own pacing lateness")
	flag.StringVar(&o.oursDir, "ours", "..", "the actorstream checkout to build our server from (a git worktree of another commit gives a before/after)")
	flag.StringVar(&o.beforeDir, "before", "", "also build cmd/server from this checkout (e.g. a git worktree of an older commit) as server \"before\", run like ours, interleaved with it step by step (who goes first alternating by step and by run), and report ours/before")
	flag.StringVar(&o.client, "client", "hd720:30", "medium:fps our client plays with -display none for its CPU and first-frame time (hd720 = 1280x720 4:2:0); empty: skip")
	flag.BoolVar(&o.smoke, "smoke", false, "a few seconds: 1 and 3 sessions, every server (ours-live and gortsplib-live too), no thresholds enforced beyond frames arriving")
	flag.Parse()
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch *mode {
	case "file":
	case "live":
		o.live = true
		if !set["servers"] {
			*servers = liveServers
		}
		if !set["media"] {
			*media = "vga420:30"
		}
		if !set["fixed"] {
			*fixed = "100,1000"
		}
		if !set["client"] {
			o.client = "" // the client's figure is the file mode's
		}
	default:
		return nil, fmt.Errorf("-mode %q: want file or live", *mode)
	}
	if o.latencyAt < 0 || o.latencyAt > 1 {
		return nil, fmt.Errorf("-latency-at %v: want a fraction from 0 to 1", o.latencyAt)
	}
	if o.publisher != "ours" && o.publisher != "ffmpeg" {
		return nil, fmt.Errorf("-publisher %q: want ours or ffmpeg", o.publisher)
	}
	o.tcp = *transport == "tcp"
	if *transport != "udp" && *transport != "tcp" {
		return nil, fmt.Errorf("-transport %q: want udp or tcp", *transport)
	}
	o.servers = splitList(*servers)
	o.oursName, o.beforeName = "ours", "before"
	if o.live {
		o.oursName, o.beforeName = "ours-live", "before-live"
		if o.servers, err = liveNames(o.servers); err != nil {
			return nil, err
		}
	}
	if o.beforeDir != "" {
		o.servers = withBefore(o.servers, o.oursName, o.beforeName)
	} else if slices.Contains(o.servers, "before") || slices.Contains(o.servers, "before-live") {
		return nil, fmt.Errorf("-servers names before: give the checkout to build it from with -before DIR")
	}
	o.media = splitList(*media)
	if o.ramp, err = intList(*ramp); err != nil {
		return nil, err
	}
	if o.fixed, err = intList(*fixed); err != nil {
		return nil, err
	}
	if o.smoke {
		// Fixed loads, not a ramp: the 3-session step is run even when a
		// busy machine put the 1-session step over a timing threshold.
		o.ramp, o.fixed, o.sample = nil, []int{1, 3}, 3
		o.warmup, o.window, o.runs = time.Second, 2*time.Second, 1
		o.latencyAt = 0
		o.media = []string{"vga420:30"}
		if !o.live {
			o.client = "vga420:30"
		}
		// CI's smoke run covers the live servers too.
		for _, s := range []string{"ours-live", "gortsplib-live"} {
			if !slices.Contains(o.servers, s) {
				o.servers = append(o.servers, s)
			}
		}
	}
	if o.url != "" && o.pid == 0 {
		return nil, fmt.Errorf("-url needs -pid (the server's process, for its CPU and memory)")
	}
	if o.url != "" && o.beforeDir != "" {
		return nil, fmt.Errorf("-before builds and starts servers: it does not go with -url")
	}
	return o, nil
}

// withBefore adds before (named so) to the servers to measure, if not
// named: right after ours, or first. Where the first of the two stands,
// both are measured, interleaved step by step (measurePair).
func withBefore(servers []string, ours, before string) []string {
	if slices.Contains(servers, before) {
		return servers
	}
	i := slices.Index(servers, ours) + 1 // 0 without ours
	return slices.Insert(slices.Clone(servers), i, before)
}

// liveNames is -servers in live mode: ours, gortsplib and before are their
// live servers; gst has no live server here.
func liveNames(servers []string) ([]string, error) {
	out := make([]string, 0, len(servers))
	for _, s := range servers {
		switch s {
		case "ours", "gortsplib", "before":
			s += "-live"
		case "gst":
			return nil, fmt.Errorf("-mode live: gst has no live server in the bench (measure ours, gortsplib, ours-file, raw-*)")
		}
		out = append(out, s)
	}
	return out, nil
}

func splitList(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad session count %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// record is one measured step, as written to -json.
type record struct {
	Run    int    `json:"run"`
	Media  string `json:"media"`
	Server string `json:"server"`
	// With -before, ours and before are measured step by step in turn:
	// PairFirst is the one measured first at this step, IdlePartnerCPU
	// the other one's CPU (100 = one core) while this one was measured.
	PairFirst      string  `json:"pair_first,omitempty"`
	IdlePartnerCPU float64 `json:"idle_partner_cpu_percent,omitempty"`
	stepResult
}

func run() error {
	o, err := parseFlags()
	if err != nil {
		return err
	}
	raiseFileLimit()
	deprioritize()
	if o.url != "" {
		steps := mergeSteps(o.ramp, o.fixed)
		var recs []record
		for _, n := range steps {
			r := runStep(stepConfig{url: o.url, n: n, sample: o.sample, tcp: o.tcp, warmup: o.warmup, window: o.window, pid: o.pid, metrics: o.metricsURL})
			recs = append(recs, record{Media: "-", Server: o.url, stepResult: r})
			printStep(recs[len(recs)-1])
		}
		return writeJSON(o.jsonOut, recs)
	}

	work, err := os.MkdirTemp("", "rtspbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	specs, err := buildServers(work, o.oursDir, o.beforeDir)
	if err != nil {
		return err
	}
	if o.beforeDir != "" {
		o.oursID, o.beforeID = checkoutID(o.oursDir), checkoutID(o.beforeDir)
		fmt.Fprintf(os.Stderr, "ours = %s, before = %s\n", o.oursID, o.beforeID)
	}
	var recs []record
	var clients []clientResult
	if o.client != "" {
		m, err := prepareMedia(o.client, work)
		if err != nil {
			return err
		}
		d := 10 * time.Second
		if o.smoke {
			d = 2 * time.Second
		}
		c, err := measureClient(specs, o.oursDir, work, m, d)
		if err != nil {
			return err
		}
		clients = append(clients, c)
		fmt.Fprintf(os.Stderr, "client     %-9s %d frames in %.0f s (%.1f fps), %d dropped, %d packets lost; cpu %.1f%% of a core; first frame after %.1f ms\n",
			c.Media, c.Frames, c.Seconds, c.FPS, c.Dropped, c.Lost, c.CPUPercent, c.TTFFMs)
	}
	for runNo := 1; runNo <= o.runs; runNo++ {
		for _, mspec := range o.media {
			m, err := prepareMedia(mspec, work)
			if err != nil {
				return err
			}
			pair := beforePair(o)
			for _, name := range o.servers {
				var rs []record
				var err error
				switch {
				case pair == nil || !slices.Contains(pair, name):
					rs, err = measureServer(o, specs, name, m, work)
				case name == pair[0]:
					rs, err = measurePair(o, specs, pair, m, work, runNo)
				default:
					continue // measured with pair[0]
				}
				for _, r := range rs {
					r.Run = runNo
					recs = append(recs, r)
				}
				if err != nil {
					return fmt.Errorf("%s on %s: %w", name, m.name, err)
				}
			}
		}
	}
	printSummary(o, recs)
	for _, c := range clients {
		fmt.Printf("\nclient (ours, -display none) on %s: %.1f%% of one core, first frame after %.1f ms, %d frames in %.0f s (%.1f fps), %d dropped, %d packets lost\n",
			c.Media, c.CPUPercent, c.TTFFMs, c.Frames, c.Seconds, c.FPS, c.Dropped, c.Lost)
	}
	if err := writeJSON(o.jsonOut, struct {
		Steps   []record       `json:"steps"`
		Clients []clientResult `json:"clients"`
	}{recs, clients}); err != nil {
		return err
	}
	if o.smoke {
		for _, c := range clients {
			if c.Frames == 0 {
				return fmt.Errorf("client on %s: no frames", c.Media)
			}
		}
		return smokeCheck(recs)
	}
	return nil
}

// measureServer ramps one server through the steps on one medium.
func measureServer(o *options, specs map[string]serverSpec, name string, m mediaFile, work string) ([]record, error) {
	r, err := startRamp(o, specs, name, m, work)
	if err != nil {
		return nil, err
	}
	defer r.stop()
	var out []record
	for _, n := range mergeSteps(o.ramp, o.fixed) {
		if r.skips(n) {
			continue
		}
		rec, err := r.step(n)
		printStep(rec)
		out = append(out, rec)
		if err != nil {
			return out, err
		}
	}
	if n := latencyStep(o, r, out); n > 0 {
		rec, err := r.step(n)
		rec.AtHeld = o.latencyAt
		printStep(rec)
		out = append(out, rec)
		return out, err
	}
	return out, nil
}

// latencyStep is the load of a live server's step for the added latency
// at -latency-at of what its ramp held (the issue's "at 80 % of our
// max"); 0 when there is none to measure: no ramp, no latency figure
// (not our publisher, or not live), or nothing held.
func latencyStep(o *options, r *ramp, steps []record) int {
	if o.latencyAt <= 0 || len(o.ramp) == 0 || r.cfg.clock == nil {
		return 0
	}
	return int(math.Round(o.latencyAt * heldSessions(steps)))
}

// beforePair is ours and before in the order -servers names them, when
// both are measured (-before); nil otherwise.
func beforePair(o *options) []string {
	if o.beforeDir == "" {
		return nil
	}
	var pair []string
	for _, s := range o.servers {
		if s == o.oursName || s == o.beforeName {
			pair = append(pair, s)
		}
	}
	if len(pair) != 2 {
		return nil
	}
	return pair
}

// pairFirst says which of the pair goes first at step k (0-based) of run
// runNo (1-based): pair[0] at the first step of run 1, then turn about
// from step to step and from run to run, so that over an even number of
// runs each build goes first equally often at every load, and a drift of
// the machine within a run favours neither.
func pairFirst(k, runNo int) int { return (k + runNo - 1) % 2 }

// measurePair measures ours and before interleaved, step by step: both
// servers are started before the first step, and at each load one is
// measured right after the other (order per pairFirst), so they see the
// same state of the machine. A build's ramp still stops at its own limit.
// While one is measured the other stands idle, its CPU over the step
// recorded as IdlePartnerCPU (0 as long as an idle server sleeps). The
// records come back grouped by server, each in step order.
func measurePair(o *options, specs map[string]serverSpec, pair []string, m mediaFile, work string, runNo int) ([]record, error) {
	var rs [2]*ramp
	for i, name := range pair {
		r, err := startRamp(o, specs, name, m, work)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		defer r.stop()
		rs[i] = r
	}
	var out [2][]record
	all := func() []record { return slices.Concat(out[0], out[1]) }
	for k, n := range mergeSteps(o.ramp, o.fixed) {
		first := pairFirst(k, runNo)
		for _, i := range []int{first, 1 - first} {
			r, idle := rs[i], rs[1-i]
			if r.skips(n) {
				continue
			}
			u0, s0, err0 := cpuTime(idle.cfg.pid)
			t0 := time.Now()
			rec, err := r.step(n)
			u1, s1, err1 := cpuTime(idle.cfg.pid)
			if err0 == nil && err1 == nil {
				rec.IdlePartnerCPU = 100 * (u1 + s1 - u0 - s0).Seconds() / time.Since(t0).Seconds()
			}
			rec.PairFirst = pair[first]
			printStep(rec)
			out[i] = append(out[i], rec)
			if err != nil {
				return all(), fmt.Errorf("%s: %w", r.name, err)
			}
		}
	}
	return all(), nil
}

// ramp is one server being taken through the steps on one medium.
type ramp struct {
	name, media string
	srv         *server // nil for the raw sender
	cfg         stepConfig
	fixed       []int
	failedAt    int // the first step it did not hold; 0 = none yet
}

func startRamp(o *options, specs map[string]serverSpec, name string, m mediaFile, work string) (*ramp, error) {
	r := &ramp{name: name, media: m.label(), fixed: o.fixed,
		cfg: stepConfig{sample: o.sample, tcp: o.tcp, warmup: o.warmup, window: o.window, spread: o.live}}
	if method, ok := strings.CutPrefix(name, "raw-"); ok {
		r.cfg.raw = startRaw(m, method, o.rawPerDst)
		return r, nil
	}
	spec, ok := specs[name]
	if !ok {
		return nil, fmt.Errorf("unknown server %q", name)
	}
	srv, err := spec.start(m, work, o.publisher)
	if err != nil {
		return nil, err
	}
	r.srv = srv
	r.cfg.url, r.cfg.pid, r.cfg.metrics = srv.url, srv.pid(), srv.metrics
	if srv.pub != nil {
		r.cfg.clock = srv.pub.clock()
	}
	return r, nil
}

func (r *ramp) stop() {
	if r.srv != nil {
		r.srv.stop()
	}
}

// skips says whether step n is past the server's limit: once a ramp step
// fails, only the fixed loads are still measured.
func (r *ramp) skips(n int) bool {
	return r.failedAt > 0 && n > r.failedAt && !slices.Contains(r.fixed, n)
}

// step measures n sessions, then lets the server free them. The error
// says the server exited.
func (r *ramp) step(n int) (record, error) {
	r.cfg.n = n
	res := runStep(r.cfg)
	if !res.held() && r.failedAt == 0 {
		r.failedAt = n
	}
	rec := record{Media: r.media, Server: r.name, stepResult: res}
	if r.srv != nil && r.srv.cmd.ProcessState != nil {
		return rec, fmt.Errorf("server exited (log %s)", r.srv.log.Name())
	}
	time.Sleep(time.Second) // let the server free the sessions
	return rec, nil
}

// checkoutID names a checkout for the report: its absolute path and its
// commit, marked "+changes" when the work tree differs from it.
func checkoutID(dir string) string {
	id := dir
	if abs, err := filepath.Abs(dir); err == nil {
		id = abs
	}
	out, err := exec.Command("git", "-C", dir, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return id
	}
	id += " " + strings.TrimSpace(string(out))
	// Only tracked files count: the benchmark's own output may lie about.
	if st, err := exec.Command("git", "-C", dir, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		id += "+changes"
	}
	return id
}

func mergeSteps(a, b []int) []int {
	s := slices.Concat(a, b)
	slices.Sort(s)
	return slices.Compact(s)
}

// generatorNice is the load generator's niceness: below the servers', so
// that when they compete for the machine's cores the server under test
// wins, as it would against clients on other machines. Servers start at
// niceness 0 through nice(1) (lowering a niceness needs root; without it
// they stay at ours, which is as fair, only noisier).
const generatorNice = 10

var niced bool

func deprioritize() {
	niced = syscall.Setpriority(syscall.PRIO_PROCESS, 0, generatorNice) == nil
}

// serverArgv wraps a server's command line so that it runs at niceness 0.
func serverArgv(argv []string) []string {
	if !niced || os.Geteuid() != 0 {
		return argv
	}
	return append([]string{"nice", "-n", strconv.Itoa(-generatorNice)}, argv...)
}

func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l) // children (the servers) inherit it
	}
}

func writeJSON(path string, recs any) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(recs, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// smokeCheck is what CI asserts of the smoke run: every server came up,
// every session was set up, and the checked sessions received frames
// (on live servers, frames the bench's publisher sent).
// No timing is judged.
func smokeCheck(recs []record) error {
	for _, r := range recs {
		if r.Failed > 0 {
			return fmt.Errorf("%s: %d of %d sessions failed: %s", r.Server, r.Failed, r.Sessions, r.FirstError)
		}
		if r.Frames == 0 {
			return fmt.Errorf("%s with %d sessions: no complete frame arrived", r.Server, r.Sessions)
		}
		if r.Unidentified > 0 && r.AddedFrames == 0 {
			return fmt.Errorf("%s with %d sessions: frames arrived, none of them a frame the publisher sent (frame identification, latency.go)", r.Server, r.Sessions)
		}
	}
	return nil
}
