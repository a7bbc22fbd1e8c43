package server

import (
	"time"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/stages/send"
)

// storedFrames adds to p the source of m's frames as the file stores them,
// from frame startIndex on (and again from the first when m loops): the
// shared in-memory frames of a file held in memory (MemorySource), else
// read from disk where the container's index says (IndexedSource) or split
// from the MJPEG stream (FileReader → Framer); for a live stream, the
// frames as published, through a subscription of this viewer's own, whose
// missed frames loss counts (nil: not counted).
func (m *Media) storedFrames(p *pipeline.Pipeline, startIndex int, loss *liveLoss) <-chan *pipeline.Frame {
	switch {
	case m.live != nil:
		return pipeline.From(p, "livesource", &liveSource{live: m.live, startIndex: startIndex, loss: loss})
	case m.frames != nil:
		return pipeline.From(p, "memorysource", &send.MemorySource{
			Table: m.frames, FPS: m.FPS, StartIndex: startIndex, Loop: m.Loop,
		})
	case m.Container != "":
		// Frames lie between the container's structures: read each
		// where the index says.
		return pipeline.From(p, "indexedsource", &send.IndexedSource{
			File: m.file, Index: m.Index, FPS: m.FPS, StartIndex: startIndex, Loop: m.Loop,
		})
	}
	chunks := pipeline.From(p, "filereader", &send.FileReader{
		File: m.file, Size: m.size, Start: m.Index.Offsets[startIndex%m.Frames()], Loop: m.Loop,
	})
	return pipeline.Then(p, "framer", &send.Framer{Format: m.Format, FPS: m.FPS, StartIndex: startIndex}, chunks)
}

// PacedFrames adds to p the frames of m for a viewer outside RTSP (an HTTP
// MJPEG viewer), from the first, each released at its time from start on
// at the media's rate (a FramePacer, the Pacer's rules), and again from
// the first when the server loops; a live stream's frames come as they
// are published, which is their pace (a viewer that falls behind misses
// frames rather than holding up the stream). The frames are the file's own
// JPEGs, not the copies conformed for RFC 2435: whatever decodes JPEG
// (browsers included) shows 4:4:4, progressive and odd sizes as they are.
// A file held in memory is played from the frames the server shares, not
// read again.
func (m *Media) PacedFrames(p *pipeline.Pipeline, start time.Time) <-chan *pipeline.Frame {
	frames := m.storedFrames(p, 0, nil)
	if m.live != nil {
		return frames
	}
	return pipeline.Then(p, "pacer", &send.FramePacer{Pacer: send.Pacer{Start: start}}, frames)
}
