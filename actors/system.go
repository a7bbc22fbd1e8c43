package actors

import (
	"log/slog"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/internal/logbridge"
)

// NewSystem returns the actor system a server or a client runs its actors
// in, logging to log. protoactor logs "actor system started" with a
// random id at info level each time; that is lowered to debug, as every
// server and every client starts one and the id means nothing to a user.
// Requests to stopped actors are not logged one by one
// (WithDeadLetterRequestLogging): they happen at every shutdown.
func NewSystem(log hclog.Logger) *actor.ActorSystem {
	h := logbridge.Demote(logbridge.New(log), "actor system started")
	return actor.NewActorSystem(
		actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(h) }),
		actor.WithDeadLetterRequestLogging(false),
	)
}
