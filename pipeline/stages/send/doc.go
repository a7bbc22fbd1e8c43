// Package send holds the stages of the sending side, one per file: the
// card's FileReader → Framer → Packetizer → Pacer → UDPSink (with
// Conformer between Framer and Packetizer for frames RFC 2435 cannot
// carry, and InterleavedSink for RTSP over TCP), the shared-file variants
// MemorySource, PacketCache and PacketSource, the lab dialect's
// LabPacketizer, and the RTCP sender statistics the sinks keep.
package send
