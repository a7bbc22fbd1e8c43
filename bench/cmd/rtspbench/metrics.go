package main

import (
	"bufio"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// lateHistogram is the cumulative pacing-lateness histogram our server
// exports (actorstream_pacing_lateness_seconds): the server's own view of
// how late each frame left, free of the load generator's scheduling.
type lateHistogram map[float64]float64 // upper bound (s) → cumulative count

func scrapeLateness(url string) (lateHistogram, error) {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	h := lateHistogram{}
	sc := bufio.NewScanner(resp.Body)
	const prefix = `actorstream_pacing_lateness_seconds_bucket{le="`
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), prefix)
		if !ok {
			continue
		}
		le, count, ok := strings.Cut(rest, `"} `)
		if !ok {
			continue
		}
		bound, err1 := strconv.ParseFloat(le, 64) // "+Inf" parses as +Inf
		n, err2 := strconv.ParseFloat(strings.TrimSpace(count), 64)
		if err1 == nil && err2 == nil {
			h[bound] = n
		}
	}
	return h, sc.Err()
}

// windowQuantile is, for the batches counted between before and after,
// the smallest bucket bound (ms) under which at least q of them left, and
// the share that left within 2 ms.
func windowQuantile(before, after lateHistogram, q float64) (boundMs, within2ms float64) {
	var bounds []float64
	for b := range after {
		bounds = append(bounds, b)
	}
	sort.Float64s(bounds)
	if len(bounds) == 0 {
		return 0, 0
	}
	total := after[bounds[len(bounds)-1]] - before[bounds[len(bounds)-1]]
	if total <= 0 {
		return 0, 0
	}
	boundMs = -1
	for _, b := range bounds {
		n := after[b] - before[b]
		if boundMs < 0 && n >= q*total {
			boundMs = b * 1000
		}
		if b == 0.002 {
			within2ms = n / total
		}
	}
	return boundMs, within2ms
}
