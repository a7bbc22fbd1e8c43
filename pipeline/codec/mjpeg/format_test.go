package mjpeg

import (
	"errors"
	"testing"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		head []byte
		want Format
		err  error
	}{
		{"raw", []byte{0xFF, 0xD8, 0xFF, 0xE0}, FormatRaw, nil},
		{"raw exactly SOI", []byte{0xFF, 0xD8}, FormatRaw, nil},
		{"lab", []byte("06014\xff\xd8\xff"), FormatLab, nil},
		{"lab exactly 7", []byte("00004\xff\xd8"), FormatLab, nil},
		{"empty", nil, FormatUnknown, ErrShortHead},
		{"lone FF", []byte{0xFF}, FormatUnknown, ErrShortHead},
		{"digits so far", []byte("0601"), FormatUnknown, ErrShortHead},
		{"digits and FF", []byte("06014\xff"), FormatUnknown, ErrShortHead},
		{"digits then text", []byte("06014abc"), FormatUnknown, ErrUnknownFormat},
		{"four digits then SOI", []byte("0601\xff\xd8\xff"), FormatUnknown, ErrUnknownFormat},
		{"text", []byte("hello world"), FormatUnknown, ErrUnknownFormat},
		{"FF not SOI", []byte{0xFF, 0xD9}, FormatUnknown, ErrUnknownFormat},
		{"png", []byte("\x89PNG\r\n\x1a\n"), FormatUnknown, ErrUnknownFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Detect(tt.head)
			if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("Detect(%q) = %v, %v; want %v, %v", tt.head, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestDetectMovie(t *testing.T) {
	data := loadMovie(t)
	if f, err := Detect(data[:16]); f != FormatLab || err != nil {
		t.Fatalf("Detect(movie) = %v, %v", f, err)
	}
}

func TestFormatString(t *testing.T) {
	for f, want := range map[Format]string{FormatUnknown: "unknown", FormatLab: "lab", FormatRaw: "raw", Format(9): "Format(9)"} {
		if got := f.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(f), got, want)
		}
	}
}

func TestParseLabLength(t *testing.T) {
	tests := []struct {
		in string
		n  int
		ok bool
	}{
		{"00000", 0, true}, {"06014", 6014, true}, {"99999", 99999, true},
		{"0601", 0, false}, {"060140", 0, false}, {"06a14", 0, false}, {"-6014", 0, false},
	}
	for _, tt := range tests {
		if n, ok := parseLabLength([]byte(tt.in)); n != tt.n || ok != tt.ok {
			t.Errorf("parseLabLength(%q) = %d, %v; want %d, %v", tt.in, n, ok, tt.n, tt.ok)
		}
	}
}
