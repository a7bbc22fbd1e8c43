package pipeline

// Chunk is a piece of a byte stream, as read from a file or a socket.
type Chunk struct {
	Data   []byte
	Offset int64 // position of Data[0] in the source
	// Restart marks the first chunk after the source jumped (a loop back to
	// the start, or a seek): parsers must drop any partial state.
	Restart bool

	pool *FreeList[Chunk]
}

// Release returns the chunk to its pool.
func (c *Chunk) Release() {
	if c.pool != nil {
		c.pool.Put(c)
	}
}

// ChunkPool hands out chunks with buffers of one size.
type ChunkPool struct {
	list *FreeList[Chunk]
}

// NewChunkPool returns a pool of chunks whose buffers have capacity size.
func NewChunkPool(idle, size int) *ChunkPool {
	p := &ChunkPool{}
	p.list = NewFreeList(idle, func() *Chunk { return &Chunk{Data: make([]byte, size), pool: p.list} })
	return p
}

// Get returns a chunk whose Data has the pool's full buffer size.
func (p *ChunkPool) Get() *Chunk {
	c := p.list.Get()
	c.Data = c.Data[:cap(c.Data)]
	c.Offset, c.Restart = 0, false
	return c
}
