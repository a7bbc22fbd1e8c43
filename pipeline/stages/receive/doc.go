// Package receive holds the stages of the receiving side, one per file:
// the card's UDPSource → JitterCheck → Depacketizer → Decoder (→ Display,
// in pipeline/display), InterleavedSource for RTSP over TCP, Meter, and
// the RTCP receiver statistics JitterCheck keeps. (Recording is
// tools.FileWriter's job.)
//
// Like every stage, they report each value they drop as a Drop event
// saying why (pipeline.ReportDrop) and offer their counters through one
// Stats method, safe to call while they run.
package receive
