package hostile

import (
	"os"
	"runtime"
	"runtime/pprof"
	"testing"

	"github.com/actorstream/actorstream/engine"
)

func TestZZDebugHeap(t *testing.T) {
	runtime.MemProfileRate = 64
	dir := t.TempDir()
	writeClip(t, dir, "clip.mjpeg", 50)
	s := startServer(t, dir, engine.Config{FPS: 50, Loop: true})
	w := newChurnWorker(t, s)
	h0 := heapAlloc()
	for range 3000 {
		if err := w.session(false); err != nil {
			t.Fatal(err)
		}
	}
	w.close()
	h1 := heapAlloc()
	t.Logf("heap %s -> %s", mib(h0), mib(h1))
	f, _ := os.Create("/tmp/alive.mem")
	runtime.GC()
	pprof.Lookup("heap").WriteTo(f, 0)
	f.Close()
}
