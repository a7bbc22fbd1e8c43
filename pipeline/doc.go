// Package pipeline is the media plumbing of actorstream: stages joined by
// ports, run together, stopped together. A Pipeline is a description —
// the stage values From, Then and To were given and the channels between
// them — and Run executes it, by default with a goroutine per stage (see
// "Two executors" for the other one). It is the stable surface for people
// who build their own pipelines (transcode, record, relay, overlay) and
// for people who write stages.
//
// # What a stage is
//
// A stage is a type with one method, shaped by its ports:
//
//	Source[O]:   Run(ctx, out chan<- O) error          // produces
//	Stage[I, O]: Run(ctx, in <-chan I, out chan<- O) error // transforms
//	Sink[I]:     Run(ctx, in <-chan I) error           // consumes
//
// SourceFunc, StageFunc and SinkFunc turn plain functions into stages. The
// type parameters are the stage's caps: connecting a stage of frames to
// one of packets does not compile.
//
// The rules a stage follows:
//
//   - Return nil once in is closed and drained (a source: once exhausted).
//   - Return ctx.Err() when ctx ends. Every send and receive must also
//     watch ctx.Done(); Send and Recv do that for you.
//   - Never close out: the Pipeline closes it when the stage returns.
//   - Return an error to fail: the pipeline stops every other stage and
//     reports yours, named (see StageError).
//   - Keep state in the stage value; a new pipeline gets new stage values.
//
// The loop at the heart of almost every stage:
//
//	for {
//		f, ok := pipeline.Recv(ctx, in) // false: in closed, or ctx ended
//		if !ok {
//			return ctx.Err() // nil after a normal close
//		}
//		if bad(f) {
//			pipeline.ReportDrop(ctx, 1, &pipeline.FrameError{Index: f.Index, Err: why})
//			f.Release() // dropped: we owned it, so we release it
//			continue
//		}
//		work(f) // may rewrite f.Data, even with a longer slice: the frame owns it
//		if !pipeline.Send(ctx, out, f) {
//			f.Release() // not delivered: still ours
//			return ctx.Err()
//		}
//	}
//
// Conventions of the ready stages, worth following: a stage value holds
// its reusable buffers, so one value runs in one pipeline at a time (the
// engine builds new values per PLAY); a bad configuration fails Run at
// once with an error; a value dropped is one Drop event with N 1 and an
// Err saying why (see "Progress and drops"); outputs the engine
// sends over RTP must stay carriable by RFC 2435 (3 components, 4:2:0 or
// 4:2:2, sizes multiples of 8), which image/jpeg's encoder gives for
// YCbCr and RGBA images (not for image.Gray).
//
// # What flows, and who owns it
//
// Values move between stages as pointers with exactly one owner at a time.
// A stage that receives a value owns it and must do one of two things with
// it: forward it (ownership moves on with it) or Release it. Never both,
// never keep it after either. A stage that needs the bytes later copies
// them.
//
//   - *Frame: one complete JPEG, its Index in the stream and its PTS
//     (presentation time; on the client, its position in the media), and,
//     once received over RTP, its Seq and RTPTime on the wire. Servers and
//     clients pass frames between their
//     file/network stages and their packet stages.
//   - *Batch: all RTP packets of one frame (server side), so a sink can
//     send a whole frame at once and a channel hop costs one per frame.
//     A batch may be split (Batch.Payloads): each packet is its header,
//     owned by the batch, followed by a payload shared read-only by every
//     session sending the same frame. Sinks send the two parts in one
//     vectored call (Batch.Packet joins them for those that cannot); no
//     stage may write into a payload.
//   - *Packet: one received datagram, RTP or RTCP (client side).
//   - *Chunk: a piece of a byte stream (a file read), before framing.
//   - *Picture: a decoded image and the frame it came from.
//
// Frames, batches, packets and chunks come from pools (FramePool,
// BatchPool, PacketPool, ChunkPool: bounded free lists that the garbage
// collector does not empty), and Release returns them. That is how a
// steady pipeline allocates nothing per packet. Values still queued in a
// pipeline's channels when it stops are released by the pipeline.
//
// # Building and running
//
// From adds a source and returns its output channel; Then adds a stage
// reading a channel and returns the stage's output; To adds a sink:
//
//	p := pipeline.New()
//	frames := pipeline.From(p, "generator", &tools.Generator{FPS: 25})
//	small := pipeline.Then(p, "transcode", &tools.Transcode{Width: 320}, frames)
//	pipeline.To(p, "writer", &tools.FileWriter{W: f}, small)
//	err := p.Run(ctx)
//
// Inserting a stage is calling Then between two others; replacing one is
// passing a different value of the same ports. The pipeline keeps each
// value and how it is connected: that is what lets an executor other than
// goroutines run part of it (see "Two executors"). Run returns when every
// sink has returned, or when a stage fails, or when ctx ends; in every
// case it stops the other stages and waits for them before it returns.
//
// # Two executors
//
// Run executes the description on goroutines unless the pipeline was
// given another Executor with RunOn, once built:
//
//   - Goroutines (the default): a goroutine per stage, a channel between
//     each two. Any stage anyone writes runs this way.
//   - The Scheduler (package pipeline/scheduler): one deadline heap per
//     core steps many pipelines' paced segments — no goroutine, channel or
//     timer per pipeline. RunOn(sched) lets it claim, by interface
//     assertion on the stage values, a source that is a PacedSource
//     feeding only a stage that is a Pacing, feeding only a sink that is a
//     PacedSink. Every other stage of the pipeline still runs on a
//     goroutine; when nothing can be claimed (a channel stage between the
//     source and the pacer, a sink without SendBatch...), RunOn returns a
//     *FallbackError naming the stage in the way and Run runs everything on
//     goroutines.
//
// Both executors apply the same rules: the Pacing methods decide when a
// batch is due and what to note once it is released (the Pacer's Run is
// those methods in a loop), Hold is the one early-release policy (a batch
// due within EarlySlack goes at once, otherwise at its time), and the
// stepping methods of a source or sink are what its Run does per value.
// So a pipeline sends the same packets at the same times on either.
//
// # Writing a stage for both executors
//
// A stage needs only its Run to work everywhere. To be stepped by the
// Scheduler as well, a source of batches adds the PacedSource methods and
// a sink of batches adds SendBatch (PacedSink), with Run written as those
// methods in a loop:
//
//	// SendBatch sends b now. It must not keep or release b: its caller
//	// releases it once SendBatch returns.
//	func (s *MySink) SendBatch(ctx context.Context, b *pipeline.Batch, now time.Time) error {
//		for i := range b.Packets {
//			pkt := b.Packet(i, s.joined) // whole, even when split; in place when not
//			if b.Split() {
//				s.joined = pkt
//			}
//			if err := s.write(pkt); err != nil {
//				pipeline.ReportDrop(ctx, 1, err) // report and go on: not the stream's end
//			}
//		}
//		return nil
//	}
//
//	// Run is SendBatch in a loop: the stage on goroutines.
//	func (s *MySink) Run(ctx context.Context, in <-chan *pipeline.Batch) error {
//		for {
//			b, ok := pipeline.Recv(ctx, in)
//			if !ok {
//				return ctx.Err()
//			}
//			err := s.SendBatch(ctx, b, time.Now())
//			b.Release()
//			if err != nil {
//				return err
//			}
//		}
//	}
//
// The stepping methods get the same context as Run would (the stage's:
// Report and ReportDrop name it), are never called concurrently, and must
// not block for long: a stepped sink holds up every stream on its core
// while it runs, and a stepped source that would wait says so with Ready
// and waits in Wait, off the heap. A source that can build its batches in
// the executor's buffers implements StepPoolUser. StageContext gives a
// stage's context outside a pipeline, to test the stepping methods
// directly; package pipeline/scheduler's newcomer_test.go runs such a sink
// on both executors.
//
// # Start, pause, seek, stop
//
// A pipeline runs once. The engine's session actor controls playback the
// way GStreamer does a flushing seek: PLAY builds a pipeline starting at
// the current position and runs it; PAUSE cancels its context (stages
// return within microseconds; queued values are released) and keeps the
// position; a seek is cancel, then build a new pipeline at the new
// position; TEARDOWN cancels for good. State that must survive (RTP
// sequence numbers, the RTP clock, the position) lives outside the
// pipeline and is handed to the next one.
//
// # Errors
//
// Run returns the first failure as a *StageError whose Stage field names
// the stage and whose Unwrap is the stage's own error, so errors.Is and
// errors.As see through it. A stage that merely stopped because the
// pipeline was cancelled has not failed; Run then returns the parent
// context's error (or nil when the sinks had finished).
//
// # Progress and drops
//
// Every stage reports the same way; there are no per-stage callbacks.
//
//   - An error that ends the stage is returned from Run (the pipeline wraps
//     it in a *StageError naming the stage).
//   - A value dropped on purpose (late, corrupt, no room on a slow branch)
//     is reported with ReportDrop: a Drop event with N and why; a
//     *FrameError names the frame.
//   - Something that went wrong without dropping anything is a Warning
//     event; Progress (N more values handled) is for stages whose work
//     the application counts.
//   - Counters an application reads while the stage runs (packets lost,
//     datagrams rejected) come from one method, Stats, returning a value
//     safe to read from any goroutine.
//
// The application listens with Pipeline.OnEvent; each event names the
// stage that reported it. Reporting never blocks a stage beyond the
// listener itself, which must be quick.
//
// # Testing a stage
//
// Package pipelinetest feeds values to a stage, collects what comes out
// (RunStage; RunStageEvents also returns what it reported), checks that
// every pooled frame was released (Frames), and cuts byte streams into odd
// chunkings. Stages need no actor, socket or server to be tested; Then
// and To accept any channel as input, Feed's included. For a benchmark,
// drive the stage's channels directly with a FramePool, as the ready
// stages' benchmarks do, so that the loop measures the stage alone.
//
// # The engine's pipelines
//
// engine/server.DefaultPipeline builds the server's per-PLAY pipeline
// from the pieces server.PlayContext offers (SharedPackets, Frames,
// Packets, Send), stage for stage the design card's:
//
//	file over MaxInMemory (disk), on goroutines:
//	  send.FileReader → send.Framer → send.Conformer → send.Packetizer → send.Pacer → send.UDPSink | send.InterleavedSink
//	       chunks            frames         carriable         RTP batches        on time
//
//	file in memory, RTSP over UDP, stepped by the server's scheduler.Scheduler:
//	  send.PacketSource ──→ send.Pacer ──→ send.UDPSink
//	   PacedSource            Pacing         PacedSink
//	   (shared send.PacketCache: the file read, split, conformed and
//	    packetized once; per session only a copy and a 12-byte header)
//
//	file in memory over TCP, or a fallback: the same stages on goroutines
//	  send.PacketSource → send.Pacer → send.UDPSink | send.InterleavedSink
//
//	lab dialect: send.MemorySource (or FileReader → Framer) → send.LabPacketizer → send.Pacer → send.UDPSink
//
// A function of the same type in server.Config.Pipeline replaces it for
// every session, e.g. to put an Overlay between frames and packets. The
// server offers whatever a factory builds to its Scheduler (on the shard
// that serves the session's UDP socket) for RFC 2326 sessions over UDP:
// a factory that swaps the source or the sink for other steppable ones
// keeps the Scheduler, one that puts a channel stage into the paced
// segment runs on goroutines, which the server logs at debug, naming the
// stage, and counts in actorstream_pipeline_goroutine_fallbacks_total.
// Stepped, PacketSource builds its batches in the shard's buffers and
// copies each packet whole (PacketSource.UseStepPool says why); on
// goroutines its batches are split, payloads pointing into the cache.
//
// engine/client.DefaultPipeline builds the client's per-SETUP receiving
// pipeline from the pieces client.ReceiveContext offers (Source,
// JitterCheck, Depacketizer, Decoder, Output), always on goroutines:
//
//	receive.UDPSource | receive.InterleavedSource → receive.JitterCheck → receive.Depacketizer → Output
//	      datagrams / $ frames                        in order, RTCP RR      whole JPEGs
//
//	output pipeline, for the client's whole life (client.Config.Output):
//	  receive.Meter → [tools.Tee → tools.FileWriter] → [receive.Decoder] → display (web, term, none)
//
// A function in client.Config.Pipeline replaces the receiving pipeline,
// e.g. to insert a stage between JitterCheck and Depacketizer or to use a
// Depacketizer of one's own; client.Config.Output replaces what shows or
// records the frames.
package pipeline
