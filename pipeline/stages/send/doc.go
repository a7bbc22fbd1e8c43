// Package send holds the stages of the sending side, one per file: the
// card's FileReader → Framer → Packetizer → Pacer → UDPSink (with
// Conformer between Framer and Packetizer for frames RFC 2435 cannot
// carry, and InterleavedSink for RTSP over TCP), the shared-file variants
// MemorySource, PacketCache and PacketSource, the lab dialect's
// LabPacketizer, and the RTCP sender statistics the sinks keep.
//
// Every stage runs on goroutines (its Run). PacketSource, Pacer and
// UDPSink can also be stepped (pipeline.PacedSource, pipeline.Pacing,
// pipeline.PacedSink), so that the server's Scheduler (package
// pipeline/scheduler) runs PacketSource → Pacer → UDPSink for many
// sessions from one deadline heap per core. Stages report dropped frames
// and packets with pipeline.ReportDrop and keep no callbacks for them.
package send
