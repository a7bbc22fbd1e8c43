// Package auth implements RTSP authentication for actorstream: HTTP Digest
// (RFC 2617 / RFC 7616, algorithms MD5 and SHA-256, qop=auth and the
// RFC 2069 no-qop form) and Basic (RFC 7617), on the server side
// (Authenticator, Users) and the client side (Respond, Client).
//
// # Challenge order
//
// A 401 from Authenticator carries, in this order:
//
//	WWW-Authenticate: Digest realm="R", nonce="N", algorithm=SHA-256, qop="auth"
//	WWW-Authenticate: Digest realm="R", nonce="N", algorithm=MD5, qop="auth"
//	WWW-Authenticate: Basic realm="R"        (only over TLS or with AllowBasic)
//
// The order is chosen for the clients that matter, not only for the RFC:
//
//   - FFmpeg (libavformat/httpauth.c, ff_http_auth_handle_header) re-parses
//     every Digest header it sees and overwrites the previous one, so the
//     LAST Digest header wins; Basic is ignored once Digest was seen. Its
//     make_digest_auth accepts only algorithm "" , "MD5" or "MD5-sess"
//     (case-sensitive strcmp) and sends no Authorization at all otherwise,
//     so a SHA-256 challenge in last position makes FFmpeg fail. MD5 must
//     therefore be the last Digest challenge.
//   - GStreamer (rtspsrc / rtspclientsink parse_auth_hdr) clears its auth
//     params for every Digest credential, so the last Digest header wins
//     too, and gst-plugins-base's add_auth_header always computes MD5
//     without qop (RFC 2069 form, no algorithm, no nc/cnonce) whatever the
//     challenge said. The server therefore accepts no-qop answers even
//     though it offers qop="auth" (unless RequireQop is set).
//   - RFC 7616 lists challenges most preferred first, and its §3.9.1
//     example sends SHA-256 before MD5; a client that follows the RFC picks
//     the first one it supports, i.e. SHA-256.
//   - Both Digest challenges share one nonce and nonces are not tied to an
//     algorithm: the algorithm is taken from the Authorization header
//     (absent means MD5). A client that reads only the first header and
//     always hashes with MD5 still authenticates.
//
// Set DisableSHA256 to send the MD5 challenge alone.
//
// # Nonces
//
// Nonces are 16 random bytes plus the issue time, authenticated with an
// HMAC under a per-Authenticator random key, so forged nonces are refused
// and the server recognises its own expired ones (it then answers
// stale=true, which FFmpeg and GStreamer both handle by retrying). A nonce
// expires NonceTTL after its last successful use (a sliding lifetime, so a
// long-running session's keep-alives keep working), and at the latest
// NonceMaxAge after it was issued if that is set. With qop=auth, nonce
// counts must strictly increase, so replayed requests are refused. The
// RFC 2069 form has no nonce count: an answer can be replayed for the same
// method and URI while its nonce lives; that is inherent to the clients
// that use it.
//
// # Users file
//
// One user per line, "name:digest:params", params separated by ';':
//
//	alice:digest:realm=actorstream;md5=<hex HA1>;sha256=<hex HA1>;pbkdf2=sha256$<iter>$<salt>$<key>;paths=cam1,lab/*
//	cam:digest:realm=actorstream;md5=…;sha256=…;pbkdf2=…;paths=cams/**;rights=read,publish
//
// md5 and sha256 are HA1 = H(name:realm:password), which Digest needs. They
// are password-equivalent for that realm (anyone holding them can log in),
// so the file must be readable by the server only (mode 0600); AddUser
// writes it so. The PBKDF2-HMAC-SHA256 hash verifies Basic. paths is an
// optional list of path.Match patterns ("**" matches everything, "a/**"
// everything below a); without it the user may access every path. rights
// is an optional list of what the user may do there: read (play) and
// publish (ANNOUNCE/RECORD a stream); without it, read only, so files
// written before rights existed keep their meaning. Blank lines and lines
// starting with '#' are ignored.
package auth
