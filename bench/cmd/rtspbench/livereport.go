package main

import (
	"fmt"
	"os"
	"text/tabwriter"
)

// The live mode's comparison (issue 13): our live path's CPU per packet
// against the floor (the raw sender batching across receivers) and
// against our own file path at the same loads, sessions held against a
// gortsplib relay, each taken within a run. Added latency is per step,
// in the table above.
const (
	liveOurs   = "ours-live"
	liveTheirs = "gortsplib-live"
	liveFloor  = "raw-gso-mmsg"
	liveFile   = "ours-file"
)

// printLive prints the live comparison for one medium.
func printLive(o *options, recs []record, m string) {
	fmt.Printf("\nlive %s: one publisher (%s) → N readers; median [min–max] over %d run(s), ratios within each run\n\n", m, o.publisher, o.runs)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "µs/pkt\t%s\t%s\t%s\t%s\t%s/%s\t%s/%s\t\n", liveOurs, liveTheirs, liveFloor, liveFile, liveOurs, liveFloor, liveOurs, liveFile)
	for _, n := range o.fixed {
		f := cpuAt(n)
		fmt.Fprintf(w, "@%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", n,
			spread(perRun(recs, m, liveOurs, f)), spread(perRun(recs, m, liveTheirs, f)),
			spread(perRun(recs, m, liveFloor, f)), spread(perRun(recs, m, liveFile, f)),
			spreadFmt(ratioPerRun(recs, m, liveOurs, liveFloor, f), "%.2f"),
			spreadFmt(ratioPerRun(recs, m, liveOurs, liveFile, f), "%.2f"))
	}
	w.Flush()
	fmt.Println()
	w = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "sessions held\t%s\t%s\t%s/%s\t\n", liveOurs, liveTheirs, liveOurs, liveTheirs)
	fmt.Fprintf(w, "ramp\t%s\t%s\t%s\t\n",
		spread(perRun(recs, m, liveOurs, heldSessions)), spread(perRun(recs, m, liveTheirs, heldSessions)),
		spreadFmt(ratioPerRun(recs, m, liveOurs, liveTheirs, heldSessions), "%.2f"))
	w.Flush()
	if o.latencyAt > 0 && len(o.ramp) > 0 {
		fmt.Println()
		w = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(w, "added latency @%.0f %% of held\tsessions\tp50 ms\tp99 ms\tmax ms\t\n", 100*o.latencyAt)
		for _, s := range []string{liveOurs, liveTheirs} {
			v := func(f func(record) float64) []float64 {
				return perRun(recs, m, s, func(rs []record) float64 {
					for _, r := range rs {
						if r.AtHeld > 0 {
							return f(r)
						}
					}
					return 0
				})
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t\n", s,
				spread(v(func(r record) float64 { return float64(r.Sessions) })),
				spread(v(func(r record) float64 { return r.AddedP50 })),
				spread(v(func(r record) float64 { return r.AddedP99 })),
				spread(v(func(r record) float64 { return r.AddedMax })))
		}
		w.Flush()
	}
	fmt.Println("\ntargets: ours-live/raw-gso-mmsg ≤ 1.2 @100 and @1000; ours-live/ours-file < 1 @100;")
	fmt.Println("sessions held ours-live/gortsplib-live ≥ 2; added latency p99 < 2 ms at 80 % of ours-live's held (-latency-at 0.8 after a ramp).")
}
