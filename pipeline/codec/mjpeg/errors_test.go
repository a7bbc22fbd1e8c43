package mjpeg

import (
	"errors"
	"testing"
)

func TestFrameError(t *testing.T) {
	tests := []struct {
		err  *FrameError
		want string
	}{
		{&FrameError{Offset: 10, At: 10, Err: ErrTruncated}, "mjpeg: frame at offset 10: truncated frame"},
		{&FrameError{Offset: 10, At: 42, Err: ErrCorrupt, Detail: "expected marker, found 0x12"},
			"mjpeg: frame at offset 10: corrupt JPEG: expected marker, found 0x12 (at byte offset 42)"},
		{&FrameError{Offset: 3, At: 3}, "mjpeg: frame at offset 3: invalid frame"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	var err error = &FrameError{Err: ErrFrameTooLarge}
	if !errors.Is(err, ErrFrameTooLarge) || errors.Is(err, ErrCorrupt) {
		t.Fatal("errors.Is does not see the sentinel")
	}
}
