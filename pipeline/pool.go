package pipeline

import "sync/atomic"

// FreeList is a bounded free list of *T. Unlike sync.Pool it is not emptied
// by the garbage collector, so a steady-state pipeline keeps reusing the
// same buffers and allocates nothing. Get and Put never block: Get
// allocates when the list is empty, Put drops the value when it is full.
//
// The most recently returned value waits in a one-value slot that Get
// and Put reach with a single atomic operation: a stage that takes a
// value, uses it and gives it back (one batch in flight per session)
// never touches the channel.
type FreeList[T any] struct {
	last  atomic.Pointer[T] // counts toward size
	slot  bool              // size > 0: last may hold a value
	free  chan *T
	alloc func() *T
}

// NewFreeList returns a free list holding at most size idle values; alloc
// makes a new value when the list is empty.
func NewFreeList[T any](size int, alloc func() *T) *FreeList[T] {
	if size <= 0 {
		return &FreeList[T]{free: make(chan *T), alloc: alloc}
	}
	return &FreeList[T]{slot: true, free: make(chan *T, size-1), alloc: alloc}
}

// Get returns an idle value or a new one.
func (l *FreeList[T]) Get() *T {
	if v := l.last.Swap(nil); v != nil {
		return v
	}
	select {
	case v := <-l.free:
		return v
	default:
		return l.alloc()
	}
}

// Put returns v to the list; v must not be used afterwards.
func (l *FreeList[T]) Put(v *T) {
	if l.slot && l.last.CompareAndSwap(nil, v) {
		return
	}
	select {
	case l.free <- v:
	default:
	}
}
