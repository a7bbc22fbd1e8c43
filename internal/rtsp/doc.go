// Package rtsp implements the RTSP 1.0 (RFC 2326) message model shared by the
// server and the client: requests, responses, interleaved "$" frames, the
// framing that separates them on a connection, and the headers the engine
// needs (Transport, Session, Range, RTP-Info).
//
// Besides RFC 2326 the Reader understands the "lab dialect" spoken by the
// Kurose & Ross student programs (see /work/shared/lab-dialect.md): bare file
// names instead of URLs, LF line ends and no blank line after the last header.
// Such a message has no terminator on the wire, so the Reader completes it
// when the peer stops sending for a short grace period (see Reader).
//
// Session descriptions (SDP, sdp.go) are read and written with pion/sdp;
// everything else is stdlib-only. Nothing here may panic on network input:
// a malformed message is reported as a *ParseError carrying the status code a
// server should answer with.
package rtsp
