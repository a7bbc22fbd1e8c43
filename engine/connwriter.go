package engine

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
// stages.InterleavedWriter.
func (w *connWriter) WriteInterleaved(channel uint8, data []byte) bool {
	w.mu.Lock()
	if w.closed || len(w.pending)+4+len(data) > w.maxPending {
		w.dropped++
		w.mu.Unlock()
		return false
	}
	w.pending = rtsp.AppendInterleaved(w.pending, channel, data)
	w.mu.Unlock()
	w.signal()
	return true
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
