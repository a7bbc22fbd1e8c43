package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// clientResult is our client playing one stream with -display none: the
// CPU it used (its whole process, from rusage), how long the first frame
// took, and whether it kept up.
type clientResult struct {
	Media      string  `json:"media"`
	Seconds    float64 `json:"seconds"`
	CPUPercent float64 `json:"cpu_percent"` // of one core
	TTFFMs     float64 `json:"first_frame_ms"`
	Frames     int     `json:"frames"`
	Dropped    int     `json:"frames_dropped"`
	Lost       int     `json:"packets_lost"`
	FPS        float64 `json:"fps"`
}

// measureClient serves m with our server and plays it for d with our
// client, built from the checkout at oursDir.
func measureClient(specs map[string]serverSpec, oursDir, work string, m mediaFile, d time.Duration) (clientResult, error) {
	res := clientResult{Media: m.label(), Seconds: d.Seconds()}
	bin := filepath.Join(work, "actorstream-client")
	build := exec.Command("go", "build", "-o", bin, "./cmd/client")
	build.Dir, build.Stderr = oursDir, os.Stderr
	if err := build.Run(); err != nil {
		return res, fmt.Errorf("go build ./cmd/client: %w", err)
	}
	srv, err := specs["ours"].start(m, work, "")
	if err != nil {
		return res, err
	}
	defer srv.stop()
	cmd := exec.Command(bin, "-display", "none", "-duration", d.String(), "-stats", "-log-level", "error", srv.url)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return res, fmt.Errorf("client: %w", err)
	}
	var st struct {
		Frames   int     `json:"frames"`
		Dropped  int     `json:"frames_dropped"`
		FPS      float64 `json:"avg_fps"`
		TTFF     float64 `json:"time_to_first_frame_ms"`
		Receiver struct {
			Lost int `json:"packets_lost"`
		} `json:"receiver"`
	}
	if err := json.Unmarshal(out, &st); err != nil {
		return res, fmt.Errorf("client -stats: %w: %s", err, out)
	}
	ps := cmd.ProcessState
	res.CPUPercent = 100 * (ps.UserTime() + ps.SystemTime()).Seconds() / d.Seconds()
	res.TTFFMs, res.Frames, res.Dropped, res.Lost, res.FPS = st.TTFF, st.Frames, st.Dropped, st.Receiver.Lost, st.FPS
	return res, nil
}
