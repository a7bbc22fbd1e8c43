package main

import (
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// stepConfig is one measurement: n sessions against one server.
type stepConfig struct {
	url    string // RTSP URL; empty for the raw sender
	n      int
	sample int // sessions fully checked; the rest are bound but never read (UDP)
	// spread: the checked sessions are every (n/sample)th in the order
	// the sessions are opened instead of the first ones (live mode: a
	// server that sends a frame to all readers in one pass may reach them
	// in that order, and the added latency is about the last ones too).
	spread bool
	tcp    bool
	warmup time.Duration
	window time.Duration
	pid    int // the server process, for /proc
	// metrics, when set, is the server's Prometheus endpoint with our
	// pacing-lateness histogram (our server only).
	metrics string

	// raw sender: started per step with the receivers' ports
	raw func(ports string) (pid int, stop func(), err error)

	// clock, for a live server published by the bench's own publisher,
	// names the frames and says when each was sent (added latency).
	clock *frameClock
}

// stepResult is what a step measured. Rates are for the whole server:
// the sampled sessions' mean, times n.
type stepResult struct {
	Sessions   int     `json:"sessions"`
	Failed     int     `json:"failed"`
	FirstError string  `json:"first_error,omitempty"`
	PacketsPS  float64 `json:"packets_per_s"`
	Mbps       float64 `json:"mbit_per_s"`
	CPUPercent float64 `json:"cpu_percent"` // 100 = one core
	// MachineBusy is how busy the whole machine was (all cores, 100 = all
	// busy): the load generator shares it.
	MachineBusy float64 `json:"machine_busy_percent"`
	CPUPerPkt   float64 `json:"cpu_us_per_packet"`
	// SysPct is the kernel's share of the server's CPU (stime): on
	// loopback, sending a datagram costs the sender its delivery too.
	SysPct     float64 `json:"sys_percent_of_cpu"`
	RSSPerSess float64 `json:"rss_kib_per_session"`
	RSSMiB     float64 `json:"rss_mib"`
	LossPct    float64 `json:"loss_percent"`
	Incomplete int64   `json:"incomplete_frames"`
	Frames     int64   `json:"frames_checked"`
	LateP50    float64 `json:"late_p50_ms"`
	LateP99    float64 `json:"late_p99_ms"`
	LateMax    float64 `json:"late_max_ms"`
	TTFFP50    float64 `json:"first_frame_p50_ms"`
	TTFFMax    float64 `json:"first_frame_max_ms"`
	// From the server's own histogram (ours only): p99 of how late it sent
	// each frame (a bucket bound), and the share sent within 2 ms.
	ServerLateP99 float64 `json:"server_late_p99_ms,omitempty"`
	ServerWithin2 float64 `json:"server_within_2ms,omitempty"`
	// Live servers with the bench's publisher: the latency the server
	// added (publisher's send of a frame's last packet → a checked
	// reader's receipt of it, latency.go) over the checked readers'
	// frames identified in the window, and the complete frames that
	// could not be identified (0 but for frames of identical data).
	AddedFrames  int64   `json:"added_latency_frames,omitempty"`
	AddedP50     float64 `json:"added_latency_p50_ms,omitempty"`
	AddedP99     float64 `json:"added_latency_p99_ms,omitempty"`
	AddedMax     float64 `json:"added_latency_max_ms,omitempty"`
	Unidentified int64   `json:"unidentified_frames,omitempty"`
	// AtHeld marks the live step measured after the ramp at this fraction
	// of the sessions the server held (-latency-at).
	AtHeld float64 `json:"at_fraction_of_held,omitempty"`
}

// held says whether the step passed the thresholds: every session set up,
// loss ≤ 0.1 %, p99 lateness ≤ 20 ms.
func (r stepResult) held() bool {
	return r.Failed == 0 && r.Frames > 0 && r.LossPct <= 0.1 && r.LateP99 <= 20
}

func runStep(cfg stepConfig) stepResult {
	res := stepResult{Sessions: cfg.n}
	sample := min(cfg.sample, cfg.n)
	rss0, _ := rssBytes(cfg.pid)

	checkOf := sampler(cfg.n, sample, cfg.spread)
	checks := make([]*streamCheck, sample)
	sessionOf := make([]int, sample) // checks[k] is on session sessionOf[k]
	for i := range cfg.n {
		if k := checkOf(i); k >= 0 {
			sessionOf[k] = i
		}
	}
	for i := range checks {
		checks[i] = &streamCheck{}
		if cfg.clock != nil {
			checks[i].ids = cfg.clock.ids
		}
	}
	sessions := make([]*rtspSession, cfg.n)
	var conns []*net.UDPConn // every RTP socket, for the raw sender
	var failed atomic.Int64
	var firstErr atomic.Value

	fail := func(err error) {
		failed.Add(1)
		firstErr.CompareAndSwap(nil, err.Error())
	}
	defer func() {
		var wg sync.WaitGroup
		for _, s := range sessions {
			if s != nil {
				wg.Go(s.close)
			}
		}
		wg.Wait()
		for _, c := range conns {
			c.Close()
		}
	}()

	var stopRaw func()
	if cfg.url == "" {
		// The raw sender: sockets only.
		for i := range cfg.n {
			c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				fail(err)
				break
			}
			conns = append(conns, c)
			if k := checkOf(i); k >= 0 {
				go receiveUDP(c, checks[k])
			}
		}
		pid, stop, err := cfg.raw(rawPorts(conns))
		if err != nil {
			fail(err)
			return finish(res, &failed, &firstErr)
		}
		cfg.pid, stopRaw = pid, stop
		defer stopRaw()
		rss0 = -1 // its memory is all per-step: no per-session figure
	} else {
		// Open the sessions a few at a time, as a crowd of viewers would.
		sem := make(chan struct{}, 16)
		var wg sync.WaitGroup
		for i := range cfg.n {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				s, err := openSession(cfg, checkOf(i) >= 0)
				if err != nil {
					fail(err)
					return
				}
				sessions[i] = s
				if k := checkOf(i); k >= 0 && !cfg.tcp {
					go receiveUDP(s.rtp, checks[k])
				}
			})
		}
		wg.Wait()
		// PLAY once everyone is set up; playAt is per session.
		for i, s := range sessions {
			if s == nil {
				continue
			}
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if err := s.play(); err != nil {
					fail(err)
					sessions[i] = nil
					s.close()
					return
				}
				// Over TCP the connection is read from now on for the
				// media: the PLAY reply had to be read first.
				if cfg.tcp {
					var check *streamCheck
					if k := checkOf(i); k >= 0 {
						check = checks[k]
					}
					go receiveTCP(s, check)
				}
			})
		}
		wg.Wait()
	}

	time.Sleep(cfg.warmup)
	for _, c := range checks {
		c.open()
	}
	var late0 lateHistogram
	if cfg.metrics != "" {
		late0, _ = scrapeLateness(cfg.metrics)
	}
	user0, sys0, _ := cpuTime(cfg.pid)
	busy0, total0, _ := machineTimes()
	t0 := time.Now()
	var rssMax int64
	lastKeepalive := time.Now()
	for end := t0.Add(cfg.window); time.Now().Before(end); {
		time.Sleep(min(250*time.Millisecond, time.Until(end)))
		if !cfg.tcp && time.Since(lastKeepalive) > 15*time.Second {
			// Servers time sessions out after 60 s without a request or
			// RTCP (the load generator sends no RTCP).
			lastKeepalive = time.Now()
			for _, s := range sessions {
				if s != nil {
					go func() { _ = s.keepalive() }()
				}
			}
		}
		if r, err := rssBytes(cfg.pid); err == nil {
			rssMax = max(rssMax, r)
		}
	}
	user1, sys1, _ := cpuTime(cfg.pid)
	busy1, total1, _ := machineTimes()
	elapsed := time.Since(t0)
	if total1 > total0 {
		res.MachineBusy = 100 * float64(busy1-busy0) / float64(total1-total0)
	}
	if cfg.metrics != "" && late0 != nil {
		if late1, err := scrapeLateness(cfg.metrics); err == nil {
			res.ServerLateP99, res.ServerWithin2 = windowQuantile(late0, late1, 0.99)
		}
	}
	for _, c := range checks {
		c.close()
	}

	// Sum up the sampled sessions.
	var received, lost, bytes int64
	var late, ttff []time.Duration
	var sourced []frameArrival
	for k, c := range checks {
		var playAt time.Time
		if s := sessions[sessionOf[k]]; s != nil {
			playAt = s.playAt
		}
		r := c.result(playAt)
		received += r.received
		lost += r.lost
		bytes += r.bytes
		res.Frames += r.frames
		res.Incomplete += r.incomplete
		late = append(late, r.lateness...)
		sourced = append(sourced, r.sourced...)
		res.Unidentified += r.unknown
		if r.firstFrame > 0 {
			ttff = append(ttff, r.firstFrame)
		}
	}
	if sample > 0 && elapsed > 0 {
		perSession := float64(received+lost) / float64(sample) / elapsed.Seconds()
		res.PacketsPS = perSession * float64(cfg.n)
		res.Mbps = float64(bytes) * 8 / float64(sample) / elapsed.Seconds() * float64(cfg.n) / 1e6
		if received+lost > 0 {
			res.LossPct = 100 * float64(lost) / float64(received+lost)
		}
	}
	cpu := user1 + sys1 - user0 - sys0
	res.CPUPercent = 100 * cpu.Seconds() / elapsed.Seconds()
	if cpu > 0 {
		res.SysPct = 100 * float64(sys1-sys0) / float64(cpu)
	}
	if res.PacketsPS > 0 {
		res.CPUPerPkt = cpu.Seconds() * 1e6 / (res.PacketsPS * elapsed.Seconds())
	}
	res.RSSMiB = float64(rssMax) / (1 << 20)
	if cfg.n > 0 && rss0 >= 0 && rssMax > rss0 {
		res.RSSPerSess = float64(rssMax-rss0) / 1024 / float64(cfg.n)
	}
	res.LateP50, res.LateP99, res.LateMax = percentiles(late)
	res.TTFFP50, _, res.TTFFMax = percentiles(ttff)
	if cfg.clock != nil {
		added := cfg.clock.latencies(sourced)
		res.AddedFrames = int64(len(added))
		res.AddedP50, res.AddedP99, res.AddedMax = percentiles(added)
	}
	return finish(res, &failed, &firstErr)
}

func finish(res stepResult, failed *atomic.Int64, firstErr *atomic.Value) stepResult {
	res.Failed = int(failed.Load())
	if e, ok := firstErr.Load().(string); ok {
		res.FirstError = e
	}
	return res
}

// sampler maps session i (in the order opened, 0 to n-1) to its check,
// 0 to sample-1, or -1 for a session that is not checked: the first
// sample sessions, or with spread every (n/sample)th from the first.
func sampler(n, sample int, spread bool) func(i int) int {
	stride := 1
	if spread && sample > 0 {
		stride = max(1, n/sample)
	}
	return func(i int) int {
		if i%stride != 0 || i/stride >= sample {
			return -1
		}
		return i / stride
	}
}

func openSession(cfg stepConfig, sampled bool) (*rtspSession, error) {
	s, err := dialSession(cfg.url, 5*time.Second)
	if err != nil {
		return nil, err
	}
	if !cfg.tcp {
		s.rtp, s.rtcp, err = udpPair("127.0.0.1")
		if err != nil {
			s.close()
			return nil, err
		}
		if !sampled {
			// Never read: a small buffer keeps the kernel's memory for it
			// small; it drops what does not fit, at no cost to us.
			_ = s.rtp.SetReadBuffer(4096)
		}
	}
	if err := s.setup(cfg.tcp); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// percentiles gives p50, p99 and max in milliseconds.
func percentiles(d []time.Duration) (p50, p99, maxv float64) {
	if len(d) == 0 {
		return 0, 0, 0
	}
	slices.Sort(d)
	at := func(q float64) float64 {
		return float64(d[min(len(d)-1, int(q*float64(len(d))))]) / 1e6
	}
	return at(0.5), at(0.99), float64(d[len(d)-1]) / 1e6
}
