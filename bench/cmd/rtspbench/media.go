package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/actorstream/actorstream/internal/testmedia"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
)

// mediaFile is one benchmark medium: a raw MJPEG file every server can
// carry as it is (4:2:0, standard Huffman tables), served at fps.
type mediaFile struct {
	name string
	path string
	fps  float64
}

func (m mediaFile) label() string { return m.name + "@" + fmtFPS(m.fps) }

// prepareMedia makes the medium named by spec ("vga420:30", "lab:20") in
// dir with ffmpeg, once.
func prepareMedia(spec, dir string) (mediaFile, error) {
	name, fpsText, _ := strings.Cut(spec, ":")
	fps := 30.0
	if fpsText != "" {
		f, err := strconv.ParseFloat(fpsText, 64)
		if err != nil || f <= 0 {
			return mediaFile{}, fmt.Errorf("media %q: bad frame rate", spec)
		}
		fps = f
	}
	// One directory per medium: our server serves a directory.
	mdir := filepath.Join(dir, "media-"+name)
	m := mediaFile{name: name, path: filepath.Join(mdir, name+".mjpeg"), fps: fps}
	if _, err := os.Stat(m.path); err == nil {
		return m, nil
	}
	if err := os.MkdirAll(mdir, 0o755); err != nil {
		return m, err
	}
	// -huffman default: the standard tables of ITU T.81 Annex K, the only
	// ones RFC 2435 carries (ffmpeg's default is optimised tables).
	// -force_duplicated_matrix: a chroma table of its own (a copy of the
	// luma one), so that every server sends the 128 bytes of tables
	// receivers expect (gortsplib sends what the file holds).
	enc := []string{"-pix_fmt", "yuvj420p", "-huffman", "default", "-force_duplicated_matrix", "1", "-q:v", "5", "-f", "mjpeg", m.path}
	var args []string
	switch name {
	case "vga420":
		args = append([]string{"-f", "lavfi", "-i", "testsrc2=size=640x480:rate=30", "-t", "10"}, enc...)
	case "hd720":
		args = append([]string{"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-t", "10"}, enc...)
	case "lab":
		// The lab's movie is 4:4:4 in 5-digit-length records: unwrap it
		// to raw JPEG, then let ffmpeg make it 4:2:0.
		raw := filepath.Join(dir, "lab-unwrapped.mjpeg")
		if err := unwrapLab(labMovie(), raw); err != nil {
			return m, fmt.Errorf("the lab's movie: %w", err)
		}
		args = append([]string{"-f", "mjpeg", "-i", raw}, enc...)
	default:
		return m, fmt.Errorf("unknown medium %q (vga420, hd720, lab)", name)
	}
	cmd := exec.Command("ffmpeg", append([]string{"-nostdin", "-v", "error", "-y"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return m, fmt.Errorf("ffmpeg: %v: %s", err, out)
	}
	return m, nil
}

// labMovie is the lab's movie.Mjpeg in the shared folder beside the
// checkout ($ACTORSTREAM_SHARED/media when set): testmedia finds it from
// the main module's root, which is one up from this module's.
func labMovie() string {
	if os.Getenv("ACTORSTREAM_SHARED") != "" {
		return testmedia.LabMovie()
	}
	if abs, err := filepath.Abs(filepath.Join("..", "..", "shared", "media", "movie.Mjpeg")); err == nil {
		return abs
	}
	return testmedia.LabMovie()
}

// unwrapLab writes the JPEGs of a lab-format file back to back.
func unwrapLab(src, dst string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	ix, err := mjpeg.BuildIndex(bufio.NewReader(f))
	if err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	w := mjpeg.NewWriter(out, mjpeg.FormatRaw)
	var buf []byte
	for i := range ix.Len() {
		if buf, err = ix.ReadFrame(f, i, buf[:0]); err != nil {
			out.Close()
			return err
		}
		if err := w.WriteFrame(buf); err != nil {
			out.Close()
			return err
		}
	}
	return out.Close()
}
