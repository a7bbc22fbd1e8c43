package pipeline

import "time"

// ClockRate is the RTP clock of JPEG video (RFC 2435 §3).
const ClockRate = 90000

// PTS is the presentation time of frame index at fps.
func PTS(index int, fps float64) time.Duration {
	return time.Duration(float64(index) * float64(time.Second) / fps)
}

// RTPTime is the RTP timestamp of frame index, counted from startIndex whose
// timestamp is base. It is computed from the index rather than accumulated,
// so it never drifts at fractional frame rates; uint32 arithmetic wraps as
// RTP timestamps do.
func RTPTime(base uint32, startIndex, index int, fps float64) uint32 {
	return base + uint32(int64(float64(index-startIndex)*ClockRate/fps+0.5))
}
