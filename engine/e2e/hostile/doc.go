// Package hostile holds black-box tests that attack a live server.Server
// the way a hostile or broken network would: malformed and oversized
// requests, lying Content-Length headers, path escapes, clients that
// vanish or stop reading, session churn and slowloris connections. It has
// no non-test code; everything goes through the server's exported API and
// its sockets (internal/rtsp only parses what comes back).
//
// The heavy tests scale with HOSTILE_CHURN (sessions set up, played and
// torn down: default 10000, or 2000 with -short or -race) and
// HOSTILE_SLOWLORIS (trickling connections, default 1000). HOSTILE_LOG
// sets the server's log level (default warn).
package hostile
