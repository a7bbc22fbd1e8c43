package server

import (
	"net"
	"sync"
	"time"

	"github.com/actorstream/actorstream/internal/rtsp"
)

// connWriter owns the writing side of an RTSP connection. Responses and
// interleaved media are appended to one pending buffer, in order, and a
// goroutine writes whatever has piled up in one system call. Media is
// dropped (never responses) once maxPending bytes wait, so a client that
// stops reading loses its own packets and stalls nobody; a write that
// makes no progress for writeTimeout closes the connection.
type connWriter struct {
	nc           net.Conn
	maxPending   int
	writeTimeout time.Duration

	mu      sync.Mutex
	pending []byte
	held    []byte // media queued while holding, written after the response
	holding bool
	closed  bool
	dropped uint64

	wake chan struct{}
	done chan struct{}
}

func newConnWriter(nc net.Conn) *connWriter {
	w := &connWriter{
		nc: nc, maxPending: 1 << 20, writeTimeout: 10 * time.Second,
		wake: make(chan struct{}, 1), done: make(chan struct{}),
	}
	go w.run()
	return w
}

// WriteInterleaved queues a "$" frame; it implements
// send.InterleavedWriter.
func (w *connWriter) WriteInterleaved(channel uint8, data []byte) bool {
	w.mu.Lock()
	if w.closed || len(w.pending)+len(w.held)+4+len(data) > w.maxPending {
		w.dropped++
		w.mu.Unlock()
		return false
	}
	if w.holding {
		w.held = rtsp.AppendInterleaved(w.held, channel, data)
		w.mu.Unlock()
		return true
	}
	w.pending = rtsp.AppendInterleaved(w.pending, channel, data)
	w.mu.Unlock()
	w.signal()
	return true
}

// holdMedia keeps interleaved media back until releaseMedia. A PLAY
// starts the session's pipeline before its response is written; a client
// that is still waiting for that response skips any "$" frame it meets
// (ffmpeg does), so the first packets of the first frame would be lost
// and the frame with them ("Received packet without a start chunk").
func (w *connWriter) holdMedia() {
	w.mu.Lock()
	w.holding = true
	w.mu.Unlock()
}

// releaseMedia queues the media held since holdMedia after whatever is
// pending (the response) and lets media flow again.
func (w *connWriter) releaseMedia() {
	w.mu.Lock()
	w.holding = false
	if !w.closed {
		w.pending = append(w.pending, w.held...)
	}
	w.held = w.held[:0]
	w.mu.Unlock()
	w.signal()
}

// writeMessage queues a complete RTSP message.
func (w *connWriter) writeMessage(b []byte) {
	w.mu.Lock()
	if !w.closed {
		w.pending = append(w.pending, b...)
	}
	w.mu.Unlock()
	w.signal()
}

func (w *connWriter) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// close stops the writer after it has flushed what is pending.
func (w *connWriter) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.signal()
	<-w.done
}

func (w *connWriter) run() {
	defer close(w.done)
	var out []byte
	for range w.wake {
		w.mu.Lock()
		out, w.pending = w.pending, out[:0]
		closed := w.closed
		w.mu.Unlock()
		if len(out) > 0 {
			_ = w.nc.SetWriteDeadline(time.Now().Add(w.writeTimeout))
			if _, err := w.nc.Write(out); err != nil {
				// Stuck or gone: closing the socket also ends the reader.
				w.nc.Close()
				w.mu.Lock()
				w.closed = true
				w.mu.Unlock()
				return
			}
		}
		if closed {
			return
		}
	}
}
