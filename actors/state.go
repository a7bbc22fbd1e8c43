package actors

// State is where a session (server) or a player (client) stands in RFC
// 2326's state machine (§A.1 for the client, §A.2 for the server). It is
// the one set of state names the engine uses: actors switch behaviour on
// it, metrics label with it, displays show it.
type State string

// The states of RFC 2326 Appendix A, and the moment between a request that
// stops a pipeline and the pipeline having stopped.
const (
	Init     State = "init"     // no session yet, or torn down
	Ready    State = "ready"    // set up, not playing (or paused)
	Playing  State = "playing"  // media flowing
	Stopping State = "stopping" // waiting for a pipeline to stop
)

func (s State) String() string { return string(s) }
