// Package container finds the Motion-JPEG frames inside the video files
// people have — AVI, Matroska/WebM, MP4/MOV — with their frame rate, as an
// index of where each JPEG lies in the file, so that a server can play and
// seek them with ReadAt; and writes AVI, the simplest file that keeps a
// recording's rate and that every player reads.
//
// Which reader does what, and why:
//
//   - MP4 and QuickTime MOV: github.com/abema/go-mp4, whose Probe turns a
//     file's sample tables (stsz, stsc, stco/co64, stts) into per-sample
//     sizes and durations and per-chunk offsets without reading the media
//     data. It is kept by AbemaTV, used in production, and reads
//     the 'mp4v' sample entry and its esds (ffmpeg stores MJPEG in .mp4
//     that way, as MPEG-4 object type 0x6C) where github.com/Eyevinn/mp4ff,
//     the other well-kept choice, leaves 'mp4v' undecoded.
//   - Matroska and WebM: github.com/remko/go-mkvparse, a streaming parser
//     that reports each element with its file offset, so an index of
//     SimpleBlocks costs one pass and no more memory than a block; at-wat's
//     ebml-go unmarshals whole files into structures, blocks included.
//   - AVI: a reader of our own (avi.go). No maintained Go library reads
//     RIFF AVI, and the part we need is small: the stream header (codec,
//     dwRate/dwScale) and the list of '00dc'/'00db' chunks in 'movi'.
//
// Like package mjpeg, it is a pure library: no goroutines, no logging.
package container
