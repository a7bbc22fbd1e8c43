// Package interop holds interoperability tests of the actorstream RTSP
// server against third-party peers (ffprobe, ffmpeg, GStreamer) and a
// minimal raw RTSP/RTP/RTCP client of its own, over UDP and TCP-interleaved
// transport.
//
// TestMain generates the test media once (ffmpeg's testsrc2 encoded as
// plain 4:2:0, 4:2:0 with restart markers, optimised Huffman tables,
// ffmpeg's yuvj422p, and libjpeg 4:2:2 h2v1 with restart markers; plus the
// lab-format file shared/media/movie.Mjpeg beside the checkout, when present), computes
// ffmpeg framemd5 references of the raw files, and serves them all from one
// server at 25 fps on 127.0.0.1. Before the tests, it has the server
// re-encode every medium RFC 2435 cannot carry (Server.Prepare), so that the
// tests get them at the real rate even under -race (see warmUp).
//
// After the tests, whichever ran and in whatever order, TestMain checks the
// server: no session left behind, and nothing in its whole log (shutdown
// included) at warning or error level (see serverlog_test.go). A problem
// fails the run; with no request served it says that nothing was checked
// but start-up and shutdown.
//
// A test whose peer binary is missing is skipped, unless CI=true, in which
// case it fails. Run with -v to see the interop matrix printed at the end.
package interop
