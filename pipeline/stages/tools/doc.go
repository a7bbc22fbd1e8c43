// Package tools holds stages for composing pipelines of one's own, one per
// file: Tee, Transcode, Overlay, Rate, Crop, FileWriter, ImageWriter,
// Null, Generator and Impair. None of them is needed to serve or play a
// stream; the examples show them at work.
package tools
