// Package demo renders a synthetic MJPEG test clip, so the streaming engine
// can be exercised and eyeballed without shipping media files.
//
// Every frame shows 75% colour bars, a box bouncing around the picture, a
// bar sweeping across the bottom once per second and a large seven-segment
// timecode plus frame number, so dropped, repeated or reordered frames are
// visible to a human watching the stream.
//
// Frames are encoded with image/jpeg, which writes baseline 4:2:0 JPEGs with
// the standard Huffman tables — the subset RTP/JPEG (RFC 2435) can carry.
package demo
