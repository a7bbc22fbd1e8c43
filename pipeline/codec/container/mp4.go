package container

import (
	"errors"
	"fmt"
	"io"
	"strings"

	mp4 "github.com/abema/go-mp4"
)

// An MP4 or MOV file (ISO/IEC 14496-12, QuickTime) keeps its samples in
// 'mdat' and says where they are in each track's sample table: sizes
// (stsz), chunks of consecutive samples (stco/co64) and how many samples
// each chunk holds (stsc); durations in stts, at the track's timescale.
// The sample entry in stsd names the codec: 'jpeg' (QuickTime), 'mjpa',
// 'mjpb', or 'mp4v' whose esds says object type 0x6C (JPEG), as ffmpeg
// writes MJPEG into .mp4.

func openMP4(r io.ReaderAt, size int64) (*Video, error) {
	rs := io.NewSectionReader(r, 0, size)
	traks, err := mp4.ExtractBox(rs, nil, mp4.BoxPath{mp4.BoxTypeMoov(), mp4.BoxTypeTrak()})
	if err != nil {
		return nil, fmt.Errorf("MP4: %w", err)
	}
	if len(traks) == 0 {
		moof, _ := mp4.ExtractBox(rs, nil, mp4.BoxPath{mp4.BoxTypeMoof()})
		if len(moof) > 0 {
			return nil, errors.New("fragmented MP4 is not supported: remux it with ffmpeg -i IN -c copy OUT.mp4")
		}
		return nil, errors.New("MP4 file without its index (no moov box): a recording cut off before it was finished cannot be read")
	}
	for _, trak := range traks {
		v, err := mp4Track(rs, trak, size)
		if err != nil || v != nil {
			return v, err
		}
	}
	return nil, &CodecError{Kind: MP4}
}

// mp4Track indexes trak if it is video: nil, nil for other tracks.
func mp4Track(rs io.ReadSeeker, trak *mp4.BoxInfo, size int64) (*Video, error) {
	stbl := []mp4.BoxType{mp4.BoxTypeMdia(), mp4.BoxTypeMinf(), mp4.BoxTypeStbl()}
	in := func(t ...mp4.BoxType) mp4.BoxPath { return append(append(mp4.BoxPath{}, stbl...), t...) }
	boxes, err := mp4.ExtractBoxesWithPayload(rs, trak, []mp4.BoxPath{
		{mp4.BoxTypeMdia(), mp4.BoxTypeHdlr()},
		{mp4.BoxTypeMdia(), mp4.BoxTypeMdhd()},
		in(mp4.BoxTypeStsz()), in(mp4.BoxTypeStsc()), in(mp4.BoxTypeStco()), in(mp4.BoxTypeCo64()), in(mp4.BoxTypeStts()),
		in(mp4.BoxTypeStsd(), mp4.BoxTypeMp4v(), mp4.BoxTypeEsds()),
	})
	if err != nil {
		return nil, fmt.Errorf("MP4 track: %w", err)
	}
	var (
		video     bool
		timescale uint32
		sizes     *mp4.Stsz
		stsc      *mp4.Stsc
		chunks    []uint64
		stts      *mp4.Stts
		oti       = -1
	)
	for _, b := range boxes {
		switch p := b.Payload.(type) {
		case *mp4.Hdlr:
			video = string(p.HandlerType[:]) == "vide"
		case *mp4.Mdhd:
			timescale = p.Timescale
		case *mp4.Stsz:
			sizes = p
		case *mp4.Stsc:
			stsc = p
		case *mp4.Stco:
			for _, o := range p.ChunkOffset {
				chunks = append(chunks, uint64(o))
			}
		case *mp4.Co64:
			chunks = append(chunks, p.ChunkOffset...)
		case *mp4.Stts:
			stts = p
		case *mp4.Esds:
			for _, d := range p.Descriptors {
				if d.DecoderConfigDescriptor != nil {
					oti = int(d.DecoderConfigDescriptor.ObjectTypeIndication)
				}
			}
		}
	}
	if !video {
		return nil, nil
	}
	entries, err := mp4.ExtractBox(rs, trak, in(mp4.BoxTypeStsd(), mp4.BoxTypeAny()))
	if err != nil || len(entries) == 0 {
		return nil, fmt.Errorf("MP4 video track without a sample description: %v", err)
	}
	codec := entries[0].Type.String()
	v := &Video{Kind: MP4, Codec: codec}
	if !isMJPEGEntry(codec, oti) {
		return nil, &CodecError{Kind: MP4, Codec: mp4CodecName(codec, oti)}
	}
	if sizes == nil || stsc == nil || chunks == nil {
		return nil, errors.New("MP4 video track without a complete sample table (stsz, stsc, stco)")
	}
	if err := mp4Samples(v, sizes, stsc, chunks, size); err != nil {
		return nil, err
	}
	v.Rate = mp4Rate(stts, timescale)
	return v, nil
}

// mp4Samples lays the samples out: chunk by chunk, each chunk's samples
// back to back from its offset; every one must lie in the file (size
// bytes), which also bounds the work a damaged table can ask for.
func mp4Samples(v *Video, stsz *mp4.Stsz, stsc *mp4.Stsc, chunks []uint64, fileSize int64) error {
	n := int(stsz.SampleCount)
	if int64(n) > fileSize {
		return fmt.Errorf("MP4 sample table: %d samples in a %d-byte file", n, fileSize)
	}
	size := func(i int) (int, error) {
		if stsz.SampleSize != 0 {
			return int(stsz.SampleSize), nil
		}
		if i >= len(stsz.EntrySize) {
			return 0, fmt.Errorf("MP4 sample table: no size for sample %d", i)
		}
		return int(stsz.EntrySize[i]), nil
	}
	sample := 0
	for e, entry := range stsc.Entries {
		last := uint32(len(chunks)) // chunks this entry covers, 1-based inclusive
		if e+1 < len(stsc.Entries) {
			last = stsc.Entries[e+1].FirstChunk - 1
		}
		if entry.FirstChunk == 0 || last > uint32(len(chunks)) {
			return errors.New("MP4 sample table: stsc names chunks that stco lacks")
		}
		for c := entry.FirstChunk; c <= last && sample < n; c++ {
			off := int64(chunks[c-1])
			for k := uint32(0); k < entry.SamplesPerChunk && sample < n; k++ {
				s, err := size(sample)
				if err != nil {
					return err
				}
				if s > maxFrame || off < 0 || off+int64(s) > fileSize {
					return fmt.Errorf("MP4 sample %d: %d bytes at byte offset %d, outside the %d-byte file", sample, s, off, fileSize)
				}
				v.add(off, s)
				off += int64(s)
				sample++
			}
		}
	}
	return nil
}

// mp4Rate is timescale over the most common sample duration.
func mp4Rate(stts *mp4.Stts, timescale uint32) Rate {
	if stts == nil || timescale == 0 {
		return Rate{}
	}
	var delta, most uint32
	for _, e := range stts.Entries {
		if e.SampleCount > most && e.SampleDelta > 0 {
			delta, most = e.SampleDelta, e.SampleCount
		}
	}
	if delta == 0 {
		return Rate{}
	}
	return Rate{timescale, delta}.reduced()
}

// isMJPEGEntry reports whether a sample entry holds Motion-JPEG.
func isMJPEGEntry(entry string, oti int) bool {
	switch entry {
	case "jpeg", "mjpa", "mjpb", "MJPG", "AVDJ", "dmb1":
		return true
	case "mp4v":
		return oti == 0x6C
	}
	return false
}

// mp4CodecName names a sample entry's codec the way people know it.
func mp4CodecName(entry string, oti int) string {
	switch entry {
	case "avc1", "avc3", "encv":
		return "H.264"
	case "hvc1", "hev1":
		return "H.265"
	case "av01":
		return "AV1"
	case "vp08", "vp09":
		return strings.ToUpper(entry[:2]) + entry[3:]
	case "mp4v":
		if oti == 0x20 {
			return "MPEG-4 Part 2"
		}
		return fmt.Sprintf("MPEG-4 object type 0x%02X", oti)
	}
	return "'" + entry + "'"
}
