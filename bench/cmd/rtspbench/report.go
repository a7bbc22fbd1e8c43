package main

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
)

// printStep prints one step as it finishes, so a long run shows progress.
func printStep(r record) {
	status := "held"
	if !r.held() {
		status = "OVER"
	}
	fmt.Fprintf(os.Stderr, "%-12s %-9s n=%-5d %s  %7.0f pkt/s %6.1f Mbit/s  machine %3.0f%%  cpu %5.1f%% (sys %2.0f%%) %5.2f µs/pkt  rss %6.1f MiB (%5.0f KiB/sess)  loss %.3f%% incompl %d  late p50 %.2f p99 %.2f max %.1f ms  ttff %.0f ms%s\n",
		r.Server, r.Media, r.Sessions, status, r.PacketsPS, r.Mbps, r.MachineBusy, r.CPUPercent, r.SysPct, r.CPUPerPkt, r.RSSMiB, r.RSSPerSess,
		r.LossPct, r.Incomplete, r.LateP50, r.LateP99, r.LateMax, r.TTFFP50, failNote(r))
}

func failNote(r record) string {
	note := ""
	if r.ServerLateP99 > 0 {
		note = fmt.Sprintf("  server late p99 ≤ %g ms, %.2f%% within 2 ms", r.ServerLateP99, 100*r.ServerWithin2)
	}
	if r.Failed == 0 {
		return note
	}
	return note + fmt.Sprintf("  FAILED %d: %s", r.Failed, r.FirstError)
}

// printSummary prints, per medium, every step of every server (the first
// run's), then the comparison: sessions held and CPU per packet at the
// fixed loads, median and spread over the runs, and ours/theirs ratios
// from the same run; with -before, ours against before on their own.
func printSummary(o *options, recs []record) {
	media := unique(recs, func(r record) string { return r.Media })
	for _, m := range media {
		fmt.Printf("\n%s, %s, %d checked sessions per step, %v window (run 1)\n\n", m, transportName(o), o.sample, o.window)
		w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(w, "server\tsessions\theld\tpkt/s\tMbit/s\tmachine %\tcpu %\tsys %\tµs/pkt\tRSS MiB\tKiB/sess\tloss %\tincompl\tp50 ms\tp99 ms\tmax ms\tsrv p99 ms\tttff ms\t")
		for _, r := range recs {
			if r.Media != m || r.Run != 1 {
				continue
			}
			held := "yes"
			if !r.held() {
				held = "no"
			}
			srv := "-"
			if r.ServerLateP99 > 0 {
				srv = fmt.Sprintf("≤%g", r.ServerLateP99)
			}
			fmt.Fprintf(w, "%s\t%d\t%s\t%.0f\t%.1f\t%.0f\t%.1f\t%.0f\t%.2f\t%.1f\t%.0f\t%.3f\t%d\t%.2f\t%.2f\t%.1f\t%s\t%.0f\t\n",
				r.Server, r.Sessions, held, r.PacketsPS, r.Mbps, r.MachineBusy, r.CPUPercent, r.SysPct, r.CPUPerPkt, r.RSSMiB, r.RSSPerSess,
				r.LossPct, r.Incomplete, r.LateP50, r.LateP99, r.LateMax, srv, r.TTFFP50)
		}
		w.Flush()
		servers := beforeBesideOurs(unique(recs, func(r record) string { return r.Server }))
		fmt.Printf("\nsummary %s over %d run(s): median [min–max]; ratios within each run\n\n", m, o.runs)
		w = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		header := "server\tsessions held\t"
		for _, n := range o.fixed {
			header += fmt.Sprintf("µs/pkt @%d\t", n)
		}
		for _, n := range o.fixed {
			header += fmt.Sprintf("ours/this @%d\t", n)
		}
		fmt.Fprintln(w, header+"held ours/this\t")
		for _, s := range servers {
			line := s + "\t" + spread(perRun(recs, m, s, heldSessions)) + "\t"
			for _, n := range o.fixed {
				line += spread(perRun(recs, m, s, cpuAt(n))) + "\t"
			}
			for _, n := range o.fixed {
				line += spread(ratioPerRun(recs, m, "ours", s, cpuAt(n))) + "\t"
			}
			line += spread(ratioPerRun(recs, m, "ours", s, heldSessions)) + "\t"
			fmt.Fprintln(w, line)
		}
		w.Flush()
		if slices.Contains(servers, "ours") && slices.Contains(servers, "before") {
			printBefore(o, recs, m)
		}
	}
}

// beforeBesideOurs moves "before", if measured, right after "ours".
func beforeBesideOurs(servers []string) []string {
	i := slices.Index(servers, "before")
	if i < 0 || !slices.Contains(servers, "ours") {
		return servers
	}
	out := slices.Delete(slices.Clone(servers), i, i+1)
	return slices.Insert(out, slices.Index(out, "ours")+1, "before")
}

// printBefore compares the two builds of our server on one medium: CPU per
// packet at each fixed load and sessions held, each build's median and
// spread over the runs, and ours/before taken within each run (median and
// spread over the runs) with the median as a change in per cent, so a
// "within 5 %" check reads straight off it.
func printBefore(o *options, recs []record, m string) {
	fmt.Printf("\nours/before %s: ours = %s, before = %s; ratios within each run, median [min–max] over %d run(s)\n\n",
		m, o.oursID, o.beforeID, o.runs)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "measure\tours\tbefore\tours/before\tchange\t")
	row := func(name string, f func([]record) float64) {
		ratios := ratioPerRun(recs, m, "ours", "before", f)
		change := "-"
		if med, ok := median(ratios); ok {
			change = fmt.Sprintf("%+.1f %%", math.Round(1000*(med-1))/10+0) // +0: no "-0.0"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t\n", name, spread(perRun(recs, m, "ours", f)), spread(perRun(recs, m, "before", f)),
			spreadFmt(ratios, "%.3f"), change)
	}
	for _, n := range o.fixed {
		row(fmt.Sprintf("µs/pkt @%d", n), cpuAt(n))
	}
	row("sessions held", heldSessions)
	w.Flush()
}

func transportName(o *options) string {
	if o.tcp {
		return "TCP interleaved"
	}
	return "UDP"
}

// heldSessions is the largest step a server held in one run's ramp.
func heldSessions(rs []record) float64 {
	best := 0
	for _, r := range rs {
		if !r.held() {
			break
		}
		best = max(best, r.Sessions)
	}
	return float64(best)
}

func cpuAt(n int) func([]record) float64 {
	return func(rs []record) float64 {
		for _, r := range rs {
			if r.Sessions == n {
				return r.CPUPerPkt
			}
		}
		return 0
	}
}

// perRun applies f to each run's steps of one server on one medium.
func perRun(recs []record, media, server string, f func([]record) float64) []float64 {
	byRun := map[int][]record{}
	for _, r := range recs {
		if r.Media == media && r.Server == server {
			byRun[r.Run] = append(byRun[r.Run], r)
		}
	}
	var out []float64
	for _, rs := range byRun {
		if v := f(rs); v > 0 {
			out = append(out, v)
		}
	}
	return out
}

// ratioPerRun is ours/theirs within each run, never across runs.
func ratioPerRun(recs []record, media, ours, theirs string, f func([]record) float64) []float64 {
	a := map[int]float64{}
	for _, r := range recs {
		if r.Media == media && r.Server == ours {
			a[r.Run] = 0
		}
	}
	var out []float64
	for run := range a {
		var o, t []record
		for _, r := range recs {
			if r.Media == media && r.Run == run {
				switch r.Server {
				case ours:
					o = append(o, r)
				case theirs:
					t = append(t, r)
				}
			}
		}
		if fo, ft := f(o), f(t); fo > 0 && ft > 0 {
			out = append(out, fo/ft)
		}
	}
	return out
}

func spread(v []float64) string {
	if len(v) == 0 {
		return "-"
	}
	med, _ := median(v)
	if len(v) == 1 {
		return trim(med)
	}
	return fmt.Sprintf("%s [%s–%s]", trim(med), trim(v[0]), trim(v[len(v)-1]))
}

// spreadFmt is spread with every figure printed with format.
func spreadFmt(v []float64, format string) string {
	med, ok := median(v)
	if !ok {
		return "-"
	}
	if len(v) == 1 {
		return fmt.Sprintf(format, med)
	}
	return fmt.Sprintf(format+" ["+format+"–"+format+"]", med, v[0], v[len(v)-1])
}

// median sorts v and returns its median; false if v is empty.
func median(v []float64) (float64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	slices.Sort(v)
	if len(v)%2 == 0 {
		return (v[len(v)/2-1] + v[len(v)/2]) / 2, true
	}
	return v[len(v)/2], true
}

func trim(f float64) string {
	s := fmt.Sprintf("%.2f", f)
	return strings.TrimSuffix(strings.TrimSuffix(s, "0"), ".0")
}

func unique(recs []record, key func(record) string) []string {
	var out []string
	for _, r := range recs {
		if k := key(r); !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}
