package actors

import (
	"github.com/actorstream/actorstream/internal/rtsp"
)

// Messages a publisher actor understands beside the player's (SetupCmd,
// TeardownCmd, ServerResponse, ConnClosed), which mean the same to it:
// SetupCmd announces the stream and sets up its transport, TeardownCmd
// ends the session.
type (
	// RecordCmd starts sending: RECORD, then the media (PublishClientHooks.Start).
	RecordCmd struct{ Reply chan<- error }
	// MediaDone reports that the publishing pipeline ended: Err nil when
	// the file is over (it is then torn down as a finished publication),
	// otherwise why it failed.
	MediaDone struct{ Err error }
)

// PublishClientHooks connect the publisher to the I/O it does not do itself.
// They are called from the actor and must not block.
type PublishClientHooks struct {
	// Send writes one request on the RTSP connection.
	Send func(b []byte)
	// Start starts sending the media on the negotiated transport, once
	// the server has answered RECORD.
	Start func(tr rtsp.Transport)
	// Stop stops sending the media (before TEARDOWN); it may be called
	// when nothing was started.
	Stop func()
	// Done is called once when the session is over: err nil after a
	// TEARDOWN the publisher asked for, otherwise why it ended.
	Done func(err error)
}

// PublishClientStatus is where a publisher stands, for readers on other
// goroutines (PublishClientConfig.Status).
type PublishClientStatus struct {
	// State is Init before SETUP and once the session is over, Ready
	// when set up, Recording while sending.
	State State
	// Transport is the negotiated one (zero value before SETUP).
	Transport rtsp.Transport
}

// internal timers
type pubKeepaliveTick struct{ gen int }
