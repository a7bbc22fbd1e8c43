package send

import "github.com/actorstream/actorstream/pipeline/scheduler"

// Scheduler is scheduler.Scheduler, the executor that steps PacketSource
// → Pacer → UDPSink; it moved to package pipeline/scheduler, being an
// executor rather than a stage. This name remains only because
// engine/server's stream type still refers to it; remove it when that
// field says *scheduler.Scheduler.
type Scheduler = scheduler.Scheduler
