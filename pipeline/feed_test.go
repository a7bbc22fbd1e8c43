package pipeline

import "testing"

// TestFeedSharesOneFrame: every subscriber gets the same frame, numbered
// in publishing order; it goes back to its pool only when the last
// reference is released; a full channel drops the newest frame (the gap
// shows in Index); End closes the channels and later subscribers hear
// it at once.
func TestFeedSharesOneFrame(t *testing.T) {
	feed := NewFeed()
	pool := NewSharedFramePool(4)
	a, b := NewFeedChannel(1), NewFeedChannel(3)
	cancelA := feed.Subscribe(a)
	feed.Subscribe(b)

	f := pool.Get()
	f.Payloads, f.Ends = append(f.Payloads, "abc"...), append(f.Ends, 3)
	feed.Publish(f)
	fa, fb := <-a.C, <-b.C
	if fa != f || fb != f || f.Index != 0 {
		t.Fatalf("subscribers got %p and %p (index %d), want the published %p", fa, fb, f.Index, f)
	}
	fa.Release()
	if f.Packets() != 1 || string(f.Payload(0)) != "abc" {
		t.Fatal("the frame was recycled while a subscriber still held it")
	}
	fb.Release()
	if f.Packets() != 0 {
		t.Fatal("the frame was not recycled after its last reference")
	}

	feed.Publish(pool.Get()) // 1: a and b queue it
	feed.Publish(pool.Get()) // 2: a is full and drops it
	if got := (<-a.C); got.Index != 1 {
		t.Fatalf("a got frame %d, want 1", got.Index)
	} else {
		got.Release()
	}
	if len(a.C) != 0 {
		t.Fatal("a full channel queued another frame")
	}
	cancelA()
	feed.Publish(pool.Get()) // 3: only b
	for want := 1; want <= 3; want++ {
		got := <-b.C
		if got.Index != want {
			t.Fatalf("b got frame %d, want %d", got.Index, want)
		}
		got.Release()
	}
	feed.End()
	if _, ok := <-b.C; ok {
		t.Fatal("b's channel is open after End")
	}
	late := NewFeedChannel(1)
	feed.Subscribe(late)
	if _, ok := <-late.C; ok {
		t.Fatal("a subscriber of an ended feed did not hear the end")
	}
}
