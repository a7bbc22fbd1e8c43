package pipeline

// FreeList is a bounded free list of *T. Unlike sync.Pool it is not emptied
// by the garbage collector, so a steady-state pipeline keeps reusing the
// same buffers and allocates nothing. Get and Put never block: Get
// allocates when the list is empty, Put drops the value when it is full.
type FreeList[T any] struct {
	free  chan *T
	alloc func() *T
}

// NewFreeList returns a free list holding at most size idle values; alloc
// makes a new value when the list is empty.
func NewFreeList[T any](size int, alloc func() *T) *FreeList[T] {
	return &FreeList[T]{free: make(chan *T, size), alloc: alloc}
}

// Get returns an idle value or a new one.
func (l *FreeList[T]) Get() *T {
	select {
	case v := <-l.free:
		return v
	default:
		return l.alloc()
	}
}

// Put returns v to the list; v must not be used afterwards.
func (l *FreeList[T]) Put(v *T) {
	select {
	case l.free <- v:
	default:
	}
}
