// Package receive holds the stages of the receiving side, one per file:
// the card's UDPSource → JitterCheck → Depacketizer → Decoder (→ Display,
// in pipeline/display), InterleavedSource for RTSP over TCP, Meter and
// Recorder, and the RTCP receiver statistics JitterCheck keeps.
package receive
