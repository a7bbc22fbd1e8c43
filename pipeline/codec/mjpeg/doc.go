// Package mjpeg frames, indexes and writes Motion-JPEG files.
//
// Two on-disk layouts exist. The "lab" layout prefixes every JPEG with its
// length as five zero-padded ASCII digits; the "raw" layout is plain JPEG
// images concatenated back to back, as written by `ffmpeg -f mjpeg` or a
// camera's multipart stream with the boundaries removed.
//
// Raw streams carry no length information, so the [Splitter] recovers frame
// boundaries by walking the JPEG marker structure rather than searching for
// the FF D9 (EOI) byte pair: EOI can legitimately appear inside APPn segments
// (for example in an embedded EXIF thumbnail) and a byte search would cut such
// frames in half.
//
// The package is a pure library: it starts no goroutines and does no logging,
// so callers decide how to schedule and report work.
package mjpeg
