package rtpjpeg

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// TestDepacketizeFFmpegRTP reassembles packets made by an independent
// packetizer: ffmpeg's own RTP/JPEG muxer, sending to a socket of the
// test. The frames must decode to exactly the pixels of the JPEGs ffmpeg
// encodes with the same settings into a file.
func TestDepacketizeFFmpegRTP(t *testing.T) {
	ff, err := exec.LookPath("ffmpeg")
	if err != nil {
		skipOrFail(t, "ffmpeg: %v", err)
	}
	cases := []struct {
		name string
		args []string
	}{
		{"4:2:0", []string{"-pix_fmt", "yuvj420p"}},
		// ffmpeg's RTP muxer sends DRI frames as type 65 with restart headers.
		{"4:2:0 restart markers", []string{"-pix_fmt", "yuvj420p", "-slices", "4", "-threads", "4", "-thread_type", "slice"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			const frames = 10
			encode := func(out ...string) []string {
				args := []string{"-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
					"-frames:v", strconv.Itoa(frames), "-c:v", "mjpeg", "-huffman", "default", "-q:v", "4"}
				args = append(args, tc.args...)
				return append(args, out...)
			}
			file := filepath.Join(t.TempDir(), "ref.mjpeg")
			if msg, err := exec.Command(ff, encode("-f", "mjpeg", file)...).CombinedOutput(); err != nil {
				t.Fatalf("ffmpeg: %v\n%s", err, msg)
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			ref := splitMJPEG(data)

			conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetReadBuffer(4 << 20)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			url := "rtp://" + conn.LocalAddr().String()
			cmd := exec.CommandContext(ctx, ff, encode("-f", "rtp", url)...)
			if msg, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("ffmpeg -f rtp: %v\n%s", err, msg)
			}

			var d Depacketizer
			var got [][]byte
			buf := make([]byte, 65536)
			for len(got) < frames {
				_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
				n, err := conn.Read(buf)
				if err != nil {
					t.Fatalf("after %d frames: %v (stats %+v)", len(got), err, d.Stats())
				}
				var p rtp.Packet
				if err := p.Unmarshal(buf[:n]); err != nil {
					t.Fatal(err)
				}
				frame, err := d.Push(&p.Header, p.Payload)
				if err != nil {
					t.Fatalf("packet %d: %v", p.SequenceNumber, err)
				}
				if frame != nil {
					got = append(got, append([]byte(nil), frame...))
				}
			}
			if len(ref) != frames {
				t.Fatalf("reference has %d frames", len(ref))
			}
			for i := range got {
				samePixels(t, decode(t, got[i]), decode(t, ref[i]))
			}
			if st := d.Stats(); st.FramesDropped != 0 {
				t.Fatalf("dropped frames: %+v", st)
			}
		})
	}
}
