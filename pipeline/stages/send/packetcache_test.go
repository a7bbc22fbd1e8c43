package send

import (
	"context"
	"errors"
	"runtime"
	"testing"
)

// blockingTable's frame 2 waits until released (a frame being
// re-encoded); the others come at once.
type blockingTable struct {
	MemoryTable
	release chan struct{}
}

func (b *blockingTable) Frame(ctx context.Context, i int) ([]byte, error) {
	if i == 2 {
		select {
		case <-b.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return b.MemoryTable.Frame(ctx, i)
}

// TestPacketCacheFill: Fill packetizes every frame ahead of any session,
// each once (a frame Packets already made is not made again), leaves an
// unusable frame as Packets reports it, and stops with its context while
// waiting for a slow frame, which the next caller then tries again.
func TestPacketCacheFill(t *testing.T) {
	table := &countingTable{MemoryTable{svJPEG(t, 320, 240, 1, true), []byte("not a JPEG"), svJPEG(t, 64, 48, 2, false)}, map[int]int{}}
	cache := NewPacketCache(table, 1400)
	if _, err := cache.Packets(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	if err := cache.Fill(context.Background()); err != nil {
		t.Fatalf("Fill = %v", err)
	}
	for i := range cache.Len() {
		if !cache.Ready(i) || table.calls[i] != 1 {
			t.Errorf("frame %d: ready %v, asked for %d times; want ready, once", i, cache.Ready(i), table.calls[i])
		}
	}
	if _, err := cache.Packets(context.Background(), 1); err == nil {
		t.Error("the frame that is not a JPEG has packets")
	}

	slow := &blockingTable{MemoryTable{svJPEG(t, 64, 48, 1, true), svJPEG(t, 64, 48, 2, true), svJPEG(t, 64, 48, 3, true)}, make(chan struct{})}
	cache = NewPacketCache(slow, 1400)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- cache.Fill(ctx) }()
	for !cache.Ready(1) { // then Fill is past frame 1, waiting for frame 2
		runtime.Gosched()
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Fill after cancel = %v, want context.Canceled", err)
	}
	if cache.Ready(2) {
		t.Fatal("frame 2 is ready though its making was cancelled")
	}
	close(slow.release)
	if _, err := cache.Packets(context.Background(), 2); err != nil {
		t.Fatalf("frame 2 after a cancelled Fill: %v", err)
	}
}
