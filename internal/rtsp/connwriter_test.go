package rtsp

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// TestConnWriterHoldsMediaUntilTheResponse: media queued while a PLAY is
// being answered goes out after the response, in its own order.
func TestConnWriterHoldsMediaUntilTheResponse(t *testing.T) {
	server, client := net.Pipe()
	defer client.Close()
	w := NewConnWriter(server, 1<<20)

	w.HoldMedia()
	if !w.WriteInterleaved(0, []byte("first")) || !w.WriteInterleaved(1, []byte("second")) {
		t.Fatal("held media refused")
	}
	w.WriteMessage([]byte("RTSP/1.0 200 OK\r\n\r\n"))
	w.ReleaseMedia()
	w.WriteInterleaved(0, []byte("third"))

	var want []byte
	want = append(want, "RTSP/1.0 200 OK\r\n\r\n"...)
	want = AppendInterleaved(want, 0, []byte("first"))
	want = AppendInterleaved(want, 1, []byte("second"))
	want = AppendInterleaved(want, 0, []byte("third"))

	got := make([]byte, len(want))
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(client, got); err != nil {
		t.Fatalf("read %q: %v", got, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("wrote\n%q\nwant\n%q", got, want)
	}
	go io.Copy(io.Discard, client)
	w.Close()
}
