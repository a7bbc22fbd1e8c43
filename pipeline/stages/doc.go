// Package stages holds the ready-made pipeline stages of actorstream, one
// per file: the server's FileReader → Framer → Conformer → Packetizer →
// Pacer → UDPSink (or InterleavedSink), and the pieces users recombine.
package stages
