package container

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Kind names a container format.
type Kind string

// The containers Detect recognises.
const (
	AVI      Kind = "AVI"
	Matroska Kind = "Matroska" // WebM is Matroska
	MP4      Kind = "MP4"      // and QuickTime MOV, its ancestor
)

// Rate is a frame rate as the file states it: Num frames per Den seconds
// (30000/1001 for NTSC's 29.97), kept as a fraction so that it is exact.
type Rate struct{ Num, Den uint32 }

// FPS is the rate as frames per second; 0 for an unknown rate.
func (r Rate) FPS() float64 {
	if r.Num == 0 || r.Den == 0 {
		return 0
	}
	return float64(r.Num) / float64(r.Den)
}

// String writes "30" or "30000/1001".
func (r Rate) String() string {
	if r.Den == 1 {
		return strconv.FormatUint(uint64(r.Num), 10)
	}
	return fmt.Sprintf("%d/%d", r.Num, r.Den)
}

// ParseRate reads "30", "29.97" or "30000/1001" (a sidecar file's
// content, a flag). Rates must lie in (0, 1000].
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	var r Rate
	if num, den, ok := strings.Cut(s, "/"); ok {
		n, err1 := strconv.ParseUint(strings.TrimSpace(num), 10, 32)
		d, err2 := strconv.ParseUint(strings.TrimSpace(den), 10, 32)
		if err1 != nil || err2 != nil || d == 0 {
			return Rate{}, fmt.Errorf("frame rate %q: want a number or N/D", s)
		}
		r = Rate{uint32(n), uint32(d)}
	} else {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || f <= 0 || f > 1000 {
			return Rate{}, fmt.Errorf("frame rate %q: want a number or N/D", s)
		}
		r = Rate{uint32(math.Round(f * 1000)), 1000}
		r = r.reduced()
	}
	if fps := r.FPS(); fps <= 0 || fps > 1000 {
		return Rate{}, fmt.Errorf("frame rate %q out of range (0, 1000]", s)
	}
	return r, nil
}

// RateOf turns a measured rate into a fraction: a whole number, one of
// the NTSC rates N×1000/1001 (29.97...), or else milli-frames a second;
// zero for a rate outside (0, 1000].
func RateOf(fps float64) Rate {
	if !(fps > 0 && fps <= 1000) {
		return Rate{}
	}
	if r := math.Round(fps); math.Abs(fps-r) < 1e-4*r {
		return Rate{uint32(r), 1}
	}
	if r := math.Round(fps * 1.001); math.Abs(fps-r/1.001) < 1e-5*r {
		return Rate{uint32(r) * 1000, 1001}
	}
	return Rate{uint32(math.Round(fps * 1000)), 1000}.reduced()
}

// reduced is r with the fraction in lowest terms.
func (r Rate) reduced() Rate {
	a, b := r.Num, r.Den
	for b != 0 {
		a, b = b, a%b
	}
	if a == 0 {
		return r
	}
	return Rate{r.Num / a, r.Den / a}
}

// Video is the video track of a container: its codec, rate and where each
// frame lies in the file.
type Video struct {
	Kind  Kind
	Codec string // as the container names it: "MJPG", "V_MJPEG", "jpeg"...
	Rate  Rate   // zero when the file states none
	// Offsets and Sizes say where frame i's bytes (one JPEG for MJPEG)
	// are in the file. An AVI's empty chunk (a frame repeated to keep
	// the rate) repeats the previous frame's entry.
	Offsets []int64
	Sizes   []int
	// Damage, when not nil, says why indexing stopped before the end of
	// the file (a recording cut off): the frames before it are intact.
	Damage error
}

// Len is the number of frames.
func (v *Video) Len() int { return len(v.Sizes) }

// add records a frame.
func (v *Video) add(off int64, size int) {
	v.Offsets = append(v.Offsets, off)
	v.Sizes = append(v.Sizes, size)
}

// CodecError says that a container's video is not Motion-JPEG (or that it
// has no video): the server cannot carry it over RFC 2435.
type CodecError struct {
	Kind  Kind
	Codec string // a name people know: "H.264", "MPEG-4 Part 2"...; "" for no video track
}

func (e *CodecError) Error() string {
	if e.Codec == "" {
		return string(e.Kind) + " file without a video track"
	}
	return e.Codec + " video in " + string(e.Kind) + ", not Motion-JPEG"
}

// ErrNotContainer means Detect found none of the containers it knows.
var ErrNotContainer = errors.New("container: not an AVI, Matroska or MP4 file")

// maxFrame bounds one frame's size: a header claiming more is damage.
const maxFrame = 64 << 20

// Detect names the container a file starts with, from its first 12 bytes,
// or returns "" for none (raw or lab MJPEG, or anything else).
func Detect(head []byte) Kind {
	switch {
	case len(head) >= 12 && string(head[0:4]) == "RIFF" && string(head[8:12]) == "AVI ":
		return AVI
	case len(head) >= 4 && head[0] == 0x1A && head[1] == 0x45 && head[2] == 0xDF && head[3] == 0xA3:
		return Matroska
	case len(head) >= 8 && isMP4Box(string(head[4:8])):
		return MP4
	}
	return ""
}

// isMP4Box reports whether t is a box that starts MP4 or MOV files.
func isMP4Box(t string) bool {
	switch t {
	case "ftyp", "moov", "mdat", "wide", "free", "skip":
		return true
	}
	return false
}

// Open indexes the video track of the container in r (size bytes long).
// It fails with ErrNotContainer for other files and with a *CodecError for
// video that is not Motion-JPEG. A file cut off mid-frame yields the
// frames before the damage, and Video.Damage says where it is.
func Open(r io.ReaderAt, size int64) (*Video, error) {
	var head [12]byte
	n, _ := r.ReadAt(head[:], 0)
	var (
		v   *Video
		err error
	)
	switch Detect(head[:n]) {
	case AVI:
		v, err = openAVI(r, size)
	case Matroska:
		v, err = openMatroska(r, size)
	case MP4:
		v, err = openMP4(r, size)
	default:
		return nil, ErrNotContainer
	}
	if err != nil {
		return nil, err
	}
	if v.Len() == 0 {
		if v.Damage != nil {
			return nil, fmt.Errorf("%s file without a complete frame: %w", v.Kind, v.Damage)
		}
		return nil, fmt.Errorf("%s file without frames", v.Kind)
	}
	return v, nil
}

// ConvertCommand is the ffmpeg command line that turns the file name into
// a Motion-JPEG AVI that the server plays.
func ConvertCommand(name string) string {
	out := strings.TrimSuffix(name, pathExt(name)) + ".avi"
	if out == name {
		out = strings.TrimSuffix(name, pathExt(name)) + "-mjpeg.avi"
	}
	return "ffmpeg -i " + shellQuote(name) + " -c:v mjpeg -q:v 3 -an " + shellQuote(out)
}

func pathExt(name string) string {
	for i := len(name) - 1; i >= 0 && name[i] != '/'; i-- {
		if name[i] == '.' {
			return name[i:]
		}
	}
	return ""
}

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(c rune) bool {
		return !(c == '/' || c == '.' || c == '-' || c == '_' || c == '+' ||
			('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z'))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
