package pipeline

import "time"

// ntpEpochOffset is the number of seconds from 1900 (NTP) to 1970 (Unix).
const ntpEpochOffset = 2208988800

// NTPTime converts t to the 64-bit NTP format of RTCP sender reports
// (RFC 3550 §4).
func NTPTime(t time.Time) uint64 {
	secs := uint64(t.Unix() + ntpEpochOffset)
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return secs<<32 | frac
}

// TimeFromNTP is the inverse of NTPTime.
func TimeFromNTP(ntp uint64) time.Time {
	secs := int64(ntp>>32) - ntpEpochOffset
	nsec := int64((ntp & 0xFFFFFFFF) * uint64(time.Second) >> 32)
	return time.Unix(secs, nsec)
}
