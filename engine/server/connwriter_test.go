package server

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/actorstream/actorstream/internal/rtsp"
)

// TestConnWriterHoldsMediaUntilTheResponse: media queued while a PLAY is
// being answered goes out after the response, in its own order.
func TestConnWriterHoldsMediaUntilTheResponse(t *testing.T) {
	server, client := net.Pipe()
	defer client.Close()
	w := newConnWriter(server)

	w.holdMedia()
	if !w.WriteInterleaved(0, []byte("first")) || !w.WriteInterleaved(1, []byte("second")) {
		t.Fatal("held media refused")
	}
	w.writeMessage([]byte("RTSP/1.0 200 OK\r\n\r\n"))
	w.releaseMedia()
	w.WriteInterleaved(0, []byte("third"))

	var want []byte
	want = append(want, "RTSP/1.0 200 OK\r\n\r\n"...)
	want = rtsp.AppendInterleaved(want, 0, []byte("first"))
	want = rtsp.AppendInterleaved(want, 1, []byte("second"))
	want = rtsp.AppendInterleaved(want, 0, []byte("third"))

	got := make([]byte, len(want))
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(client, got); err != nil {
		t.Fatalf("read %q: %v", got, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("wrote\n%q\nwant\n%q", got, want)
	}
	go io.Copy(io.Discard, client)
	w.close()
}
