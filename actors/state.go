package actors

// State is where a session (server) or a player (client) stands in RFC
// 2326's state machine (§A.1 for the client, §A.2 for the server). It is
// the one set of state names the engine uses: actors switch behaviour on
// it, metrics label with it, displays show it.
type State string

// The states of RFC 2326 Appendix A, and the moment between a request that
// stops a pipeline and the pipeline having stopped. A publisher (a session
// that RECORDs into the server) passes through Announced and Recording
// instead of Playing.
const (
	Init      State = "init"      // no session yet, or torn down
	Announced State = "announced" // a publisher has described its stream (ANNOUNCE), not set up yet
	Ready     State = "ready"     // set up, not playing or recording (or paused)
	Playing   State = "playing"   // media flowing to the client
	Recording State = "recording" // media flowing from a publisher
	Stopping  State = "stopping"  // waiting for a pipeline to stop
)

func (s State) String() string { return string(s) }
