package main

import (
	"fmt"
	"maps"
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
		r.LossPct, r.Incomplete, r.LateP50, r.LateP99, r.LateMax, r.TTFFP50, addedNote(r)+failNote(r))
}

// addedNote is the added latency of a live step with the bench's
// publisher ("" for other steps).
func addedNote(r record) string {
	if r.AddedFrames == 0 && r.Unidentified == 0 {
		return ""
	}
	note := ""
	if r.AtHeld > 0 {
		note = fmt.Sprintf("  [at %.0f %% of held]", 100*r.AtHeld)
	}
	note += fmt.Sprintf("  added p50 %.2f p99 %.2f max %.1f ms (%d frames)", r.AddedP50, r.AddedP99, r.AddedMax, r.AddedFrames)
	if r.Unidentified > 0 {
		note += fmt.Sprintf(", %d unidentified", r.Unidentified)
	}
	return note
}

func failNote(r record) string {
	note := ""
	if r.ServerLateP99 > 0 {
		note = fmt.Sprintf("  server late p99 ≤ %g ms, %.2f%% within 2 ms", r.ServerLateP99, 100*r.ServerWithin2)
	}
	if r.IdlePartnerCPU > 0 {
		note += fmt.Sprintf("  idle partner cpu %.1f%%", r.IdlePartnerCPU)
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
		header := "server\tsessions\theld\tpkt/s\tMbit/s\tmachine %\tcpu %\tsys %\tµs/pkt\tRSS MiB\tKiB/sess\tloss %\tincompl\tp50 ms\tp99 ms\tmax ms\tsrv p99 ms\tttff ms\t"
		if o.live {
			header += "added p50 ms\tadded p99 ms\tadded max ms\t"
		}
		fmt.Fprintln(w, header)
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
			fmt.Fprintf(w, "%s\t%d\t%s\t%.0f\t%.1f\t%.0f\t%.1f\t%.0f\t%.2f\t%.1f\t%.0f\t%.3f\t%d\t%.2f\t%.2f\t%.1f\t%s\t%.0f\t",
				r.Server, r.Sessions, held, r.PacketsPS, r.Mbps, r.MachineBusy, r.CPUPercent, r.SysPct, r.CPUPerPkt, r.RSSMiB, r.RSSPerSess,
				r.LossPct, r.Incomplete, r.LateP50, r.LateP99, r.LateMax, srv, r.TTFFP50)
			if o.live {
				if r.AddedFrames > 0 {
					fmt.Fprintf(w, "%.2f\t%.2f\t%.1f\t", r.AddedP50, r.AddedP99, r.AddedMax)
				} else {
					fmt.Fprint(w, "-\t-\t-\t")
				}
			}
			fmt.Fprintln(w)
		}
		w.Flush()
		servers := beforeBesideOurs(unique(recs, func(r record) string { return r.Server }), o.oursName, o.beforeName)
		fmt.Printf("\nsummary %s over %d run(s): median [min–max]; ratios within each run\n\n", m, o.runs)
		w = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		header = "server\tsessions held\t"
		for _, n := range o.fixed {
			header += fmt.Sprintf("µs/pkt @%d\t", n)
		}
		for _, n := range o.fixed {
			header += fmt.Sprintf("%s/this @%d\t", o.oursName, n)
		}
		fmt.Fprintln(w, header+"held "+o.oursName+"/this\t")
		for _, s := range servers {
			line := s + "\t" + spread(perRun(recs, m, s, heldSessions)) + "\t"
			for _, n := range o.fixed {
				line += spread(perRun(recs, m, s, cpuAt(n))) + "\t"
			}
			for _, n := range o.fixed {
				line += spread(ratioPerRun(recs, m, o.oursName, s, cpuAt(n))) + "\t"
			}
			line += spread(ratioPerRun(recs, m, o.oursName, s, heldSessions)) + "\t"
			fmt.Fprintln(w, line)
		}
		w.Flush()
		if slices.Contains(servers, o.oursName) && slices.Contains(servers, o.beforeName) {
			printBefore(o, recs, m)
		}
		if o.live {
			printLive(o, recs, m)
		}
	}
}

// beforeBesideOurs moves before, if measured, right after ours.
func beforeBesideOurs(servers []string, ours, before string) []string {
	i := slices.Index(servers, before)
	if i < 0 || !slices.Contains(servers, ours) {
		return servers
	}
	out := slices.Delete(slices.Clone(servers), i, i+1)
	return slices.Insert(out, slices.Index(out, ours)+1, before)
}

// printBefore compares the two builds of our server on one medium: CPU per
// packet at each fixed load and sessions held, each build's median and
// spread over the runs, and ours/before taken within each run: its median
// and spread, its mean, the median as a change in per cent (so a "within
// 5 %" check reads straight off it), every run's ratio in run order, and
// at the fixed loads the mean ratio over the runs in which ours went first
// and over those in which before did (how big an order effect is).
func printBefore(o *options, recs []record, m string) {
	ours, before := o.oursName, o.beforeName
	fmt.Printf("\n%s/%s %s: ours = %s, before = %s; interleaved step by step, ratios within each run, median [min–max] over %d run(s)\n\n",
		ours, before, m, o.oursID, o.beforeID, o.runs)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "measure\tours\tbefore\tours/before\tmean\tchange\tper run\tours first\tbefore first\t")
	row := func(name string, f func([]record) float64, n int) {
		runs, ratios := ratiosByRun(recs, m, ours, before, f)
		perRunText, firstOurs, firstBefore := make([]string, o.runs), []float64{}, []float64{}
		for i := range perRunText {
			perRunText[i] = "-"
		}
		for i, run := range runs {
			text := fmt.Sprintf("%.3f", ratios[i])
			if n > 0 {
				switch pairFirstAt(recs, m, ours, run, n) {
				case ours:
					firstOurs = append(firstOurs, ratios[i])
				case before:
					firstBefore = append(firstBefore, ratios[i])
					text += "*"
				}
			}
			if run >= 1 && run <= len(perRunText) {
				perRunText[run-1] = text
			}
		}
		change := "-"
		if med, ok := median(ratios); ok {
			change = fmt.Sprintf("%+.1f %%", math.Round(1000*(med-1))/10+0) // +0: no "-0.0"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", name,
			spread(perRun(recs, m, ours, f)), spread(perRun(recs, m, before, f)),
			spreadFmt(ratios, "%.3f"), meanFmt(ratios, "%.3f"), change, strings.Join(perRunText, " "),
			meanFmt(firstOurs, "%.3f"), meanFmt(firstBefore, "%.3f"))
	}
	for _, n := range o.fixed {
		row(fmt.Sprintf("µs/pkt @%d", n), cpuAt(n), n)
	}
	row("sessions held", heldSessions, 0)
	// How busy the whole machine was while each was measured: the same
	// for both but for the CPU the two builds differ by, unless something
	// else ran on the machine during one of them.
	for _, n := range o.fixed {
		perRunText := make([]string, o.runs)
		for run := 1; run <= o.runs; run++ {
			a, b := at(recs, m, ours, run, n), at(recs, m, before, run, n)
			perRunText[run-1] = "-"
			if a != nil && b != nil {
				perRunText[run-1] = fmt.Sprintf("%.0f/%.0f", a.MachineBusy, b.MachineBusy)
			}
		}
		busy := func(rs []record) float64 {
			for _, r := range rs {
				if r.Sessions == n {
					return r.MachineBusy
				}
			}
			return 0
		}
		fmt.Fprintf(w, "machine %% @%d\t%s\t%s\t\t\t\t%s\t\t\t\n", n,
			spreadFmt(perRun(recs, m, ours, busy), "%.0f"), spreadFmt(perRun(recs, m, before, busy), "%.0f"), strings.Join(perRunText, " "))
	}
	w.Flush()
	fmt.Println("\nper run: runs 1, 2, … in order; * = before was measured first at that load in that run.")
	fmt.Println("ours first / before first: mean ours/before over the runs in which that build went first.")
	fmt.Println("machine %: the whole machine (100 = every core) while each was measured, ours/before per run;")
	fmt.Println("a gap well beyond the two builds' own CPU is other load on the machine: distrust that run's ratio.")
}

// at is one server's step with n sessions in one run; nil if not measured.
func at(recs []record, media, server string, run, n int) *record {
	for i, r := range recs {
		if r.Media == media && r.Server == server && r.Run == run && r.Sessions == n {
			return &recs[i]
		}
	}
	return nil
}

// pairFirstAt is which build was measured first at load n in a run ("" if
// not measured as a pair).
func pairFirstAt(recs []record, media, ours string, run, n int) string {
	if r := at(recs, media, ours, run, n); r != nil {
		return r.PairFirst
	}
	return ""
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

// perRun applies f to each run's steps of one server on one medium, in
// run order.
func perRun(recs []record, media, server string, f func([]record) float64) []float64 {
	byRun := map[int][]record{}
	for _, r := range recs {
		if r.Media == media && r.Server == server {
			byRun[r.Run] = append(byRun[r.Run], r)
		}
	}
	var out []float64
	for _, run := range slices.Sorted(maps.Keys(byRun)) {
		if v := f(byRun[run]); v > 0 {
			out = append(out, v)
		}
	}
	return out
}

// ratioPerRun is ours/theirs within each run, never across runs, in run
// order.
func ratioPerRun(recs []record, media, ours, theirs string, f func([]record) float64) []float64 {
	_, out := ratiosByRun(recs, media, ours, theirs, f)
	return out
}

// ratiosByRun is ratioPerRun with the run each ratio is from.
func ratiosByRun(recs []record, media, ours, theirs string, f func([]record) float64) (runs []int, out []float64) {
	a := map[int]bool{}
	for _, r := range recs {
		if r.Media == media && r.Server == ours {
			a[r.Run] = true
		}
	}
	for _, run := range slices.Sorted(maps.Keys(a)) {
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
			runs = append(runs, run)
			out = append(out, fo/ft)
		}
	}
	return runs, out
}

// spread is "median [min–max]", or the one value.
func spread(v []float64) string {
	if len(v) == 0 {
		return "-"
	}
	med, _ := median(v)
	if len(v) == 1 {
		return trim(med)
	}
	return fmt.Sprintf("%s [%s–%s]", trim(med), trim(slices.Min(v)), trim(slices.Max(v)))
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
	return fmt.Sprintf(format+" ["+format+"–"+format+"]", med, slices.Min(v), slices.Max(v))
}

// meanFmt is v's mean printed with format; "-" if v is empty.
func meanFmt(v []float64, format string) string {
	if len(v) == 0 {
		return "-"
	}
	sum := 0.0
	for _, x := range v {
		sum += x
	}
	return fmt.Sprintf(format, sum/float64(len(v)))
}

// median is v's median (v is left as it is); false if v is empty.
func median(v []float64) (float64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	v = slices.Sorted(slices.Values(v))
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
