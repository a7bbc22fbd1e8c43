package rtsp

import (
	"net"
	"sync"
	"time"
)

// ConnWriter owns the writing side of an RTSP connection, for the server
// (responses and media to a player) and for a publishing client (requests
// and media to a server). Messages and interleaved media are appended to
// one pending buffer, in order, and a goroutine writes whatever has piled
// up in one system call: the senders never block on the network, and
// nothing is allocated per packet once the buffers have grown. Media is
// dropped (never messages) once maxPending bytes wait, so a peer that
// stops reading loses its own packets and stalls nobody; a write that
// makes no progress for writeTimeout closes the connection.
type ConnWriter struct {
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

// NewConnWriter starts writing to nc; media beyond maxPending bytes
// waiting is dropped.
func NewConnWriter(nc net.Conn, maxPending int) *ConnWriter {
	w := &ConnWriter{
		nc: nc, maxPending: maxPending, writeTimeout: 10 * time.Second,
		wake: make(chan struct{}, 1), done: make(chan struct{}),
	}
	go w.run()
	return w
}

// WriteInterleaved queues a "$" frame; it implements
// send.InterleavedWriter.
func (w *ConnWriter) WriteInterleaved(channel uint8, data []byte) bool {
	w.mu.Lock()
	if w.closed || len(w.pending)+len(w.held)+4+len(data) > w.maxPending {
		w.dropped++
		w.mu.Unlock()
		return false
	}
	if w.holding {
		w.held = AppendInterleaved(w.held, channel, data)
		w.mu.Unlock()
		return true
	}
	w.pending = AppendInterleaved(w.pending, channel, data)
	w.mu.Unlock()
	w.signal()
	return true
}

// HoldMedia keeps interleaved media back until ReleaseMedia. A PLAY
// starts the session's pipeline before its response is written; a client
// that is still waiting for that response skips any "$" frame it meets
// (ffmpeg does), so the first packets of the first frame would be lost
// and the frame with them ("Received packet without a start chunk").
func (w *ConnWriter) HoldMedia() {
	w.mu.Lock()
	w.holding = true
	w.mu.Unlock()
}

// ReleaseMedia queues the media held since HoldMedia after whatever is
// pending (the response) and lets media flow again.
func (w *ConnWriter) ReleaseMedia() {
	w.mu.Lock()
	w.holding = false
	if !w.closed {
		w.pending = append(w.pending, w.held...)
	}
	w.held = w.held[:0]
	w.mu.Unlock()
	w.signal()
}

// WriteMessage queues a complete RTSP message.
func (w *ConnWriter) WriteMessage(b []byte) {
	w.mu.Lock()
	if !w.closed {
		w.pending = append(w.pending, b...)
	}
	w.mu.Unlock()
	w.signal()
}

// Dropped is the number of media frames refused so far.
func (w *ConnWriter) Dropped() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dropped
}

func (w *ConnWriter) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Close stops the writer after it has flushed what is pending.
func (w *ConnWriter) Close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.signal()
	<-w.done
}

func (w *ConnWriter) run() {
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
