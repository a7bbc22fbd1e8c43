package container

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/remko/go-mkvparse"
)

// mkvHandler collects the video track and its blocks from go-mkvparse's
// stream of elements (Matroska's specification, RFC 9559).
type mkvHandler struct {
	mkvparse.DefaultHandler
	v    *Video
	size int64 // the file's

	track      int64 // the video track's number; 0 until Tracks ends
	codec      string
	defaultDur int64 // ns per frame, 0 if not stated
	scale      int64 // ns per timestamp tick (TimecodeScale)
	cluster    int64 // the cluster's timestamp
	first      int64 // first and last block timestamps, in ticks
	last       int64
	// the TrackEntry being read
	entry struct {
		number, kind, dur int64
		codec             string
	}
	picked bool
}

// errNotMJPEG stops the parse once the video track is known to be another codec.
var errNotMJPEG = errors.New("not MJPEG")

func openMatroska(r io.ReaderAt, size int64) (*Video, error) {
	h := &mkvHandler{v: &Video{Kind: Matroska}, size: size, scale: 1000000}
	err := mkvparse.Parse(io.NewSectionReader(r, 0, size), h)
	if errors.Is(err, errNotMJPEG) || (!h.picked && (err == nil || h.v.Len() == 0)) {
		return nil, &CodecError{Kind: Matroska, Codec: mkvCodecName(h.codec)}
	}
	if err != nil {
		h.v.Damage = fmt.Errorf("damaged Matroska file, after %d frames: %w", h.v.Len(), err)
	}
	h.v.Rate = h.rate()
	return h.v, nil
}

// rate is the track's DefaultDuration as a rate, or else the mean step
// of its block timestamps.
func (h *mkvHandler) rate() Rate {
	if h.defaultDur > 0 {
		return RateOf(1e9 / float64(h.defaultDur))
	}
	if n := h.v.Len(); n > 1 && h.last > h.first {
		return RateOf(float64(n-1) * 1e9 / (float64(h.last-h.first) * float64(h.scale)))
	}
	return Rate{}
}

func (h *mkvHandler) HandleMasterBegin(id mkvparse.ElementID, _ mkvparse.ElementInfo) (bool, error) {
	switch id {
	case mkvparse.SegmentElement, mkvparse.TracksElement, mkvparse.ClusterElement, mkvparse.BlockGroupElement,
		mkvparse.InfoElement:
		return true, nil
	case mkvparse.TrackEntryElement:
		h.entry.number, h.entry.kind, h.entry.dur, h.entry.codec = 0, 0, 0, ""
		return true, nil
	}
	return false, nil
}

func (h *mkvHandler) HandleMasterEnd(id mkvparse.ElementID, _ mkvparse.ElementInfo) error {
	switch id {
	case mkvparse.TrackEntryElement:
		if h.entry.kind == 1 && !h.picked { // 1: video
			h.picked = true
			h.track, h.codec, h.defaultDur = h.entry.number, h.entry.codec, h.entry.dur
			if h.codec != "V_MJPEG" {
				return errNotMJPEG
			}
		}
	case mkvparse.TracksElement:
		if !h.picked {
			return errNotMJPEG
		}
	}
	return nil
}

func (h *mkvHandler) HandleInteger(id mkvparse.ElementID, value int64, _ mkvparse.ElementInfo) error {
	switch id {
	case mkvparse.TrackNumberElement:
		h.entry.number = value
	case mkvparse.TrackTypeElement:
		h.entry.kind = value
	case mkvparse.DefaultDurationElement:
		h.entry.dur = value
	case mkvparse.TimecodeScaleElement:
		if value > 0 {
			h.scale = value
		}
	case mkvparse.TimecodeElement:
		h.cluster = value
	}
	return nil
}

func (h *mkvHandler) HandleString(id mkvparse.ElementID, value string, _ mkvparse.ElementInfo) error {
	if id == mkvparse.CodecIDElement {
		h.entry.codec = value
	}
	return nil
}

// HandleBinary indexes a SimpleBlock or Block of the video track: a track
// number (EBML varint), a 16-bit timestamp relative to the cluster's,
// a flags byte, then the frame (MJPEG tracks use no lacing).
func (h *mkvHandler) HandleBinary(id mkvparse.ElementID, data []byte, info mkvparse.ElementInfo) error {
	if (id != mkvparse.SimpleBlockElement && id != mkvparse.BlockElement) || !h.picked {
		return nil
	}
	if len(data) < 1 {
		return nil
	}
	n := 1
	for n <= 8 && data[0]&(0x80>>(n-1)) == 0 {
		n++
	}
	if n > 8 || len(data) < n+3 {
		return nil
	}
	track := int64(data[0] & (0xFF >> n))
	for _, b := range data[1:n] {
		track = track<<8 | int64(b)
	}
	if track != h.track || data[n+2]&0x06 != 0 { // another track, or laced
		return nil
	}
	ts := h.cluster + int64(int16(uint16(data[n])<<8|uint16(data[n+1])))
	if h.v.Len() == 0 {
		h.first = ts
	}
	h.last = ts
	head := n + 3
	off, size := info.Offset+int64(head), len(data)-head
	if size > maxFrame || off < 0 || off+int64(size) > h.size {
		return fmt.Errorf("block at byte offset %d: %d bytes, outside the %d-byte file", info.Offset, size, h.size)
	}
	if size < 2 || data[head] != 0xFF || data[head+1] != 0xD8 {
		return nil // not a JPEG: nothing to play
	}
	h.v.add(off, size)
	return nil
}

// mkvCodecName names a Matroska codec ID the way people know it.
func mkvCodecName(id string) string {
	switch {
	case id == "":
		return ""
	case id == "V_MPEG4/ISO/AVC":
		return "H.264"
	case id == "V_MPEGH/ISO/HEVC":
		return "H.265"
	case strings.HasPrefix(id, "V_MPEG4/ISO/"):
		return "MPEG-4 Part 2"
	case id == "V_VP8", id == "V_VP9", id == "V_AV1", id == "V_THEORA":
		return strings.TrimPrefix(id, "V_")
	}
	return id
}
