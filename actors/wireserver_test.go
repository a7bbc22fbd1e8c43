package actors

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/actorstream/actorstream/internal/rtsp"
)

// wireServer stands for the server on the other end of a client actor's
// (Player's, PublishClient's) RTSP connection: its send is the actor's
// Send hook, which keeps each request and answers it through answer as
// the connection's reader would, with a ServerResponse message a moment
// later.
type wireServer struct {
	t      *testing.T
	sys    *actor.ActorSystem
	pid    *actor.PID                             // the actor, once spawned
	answer func(req *rtsp.Request) *rtsp.Response // nil: stay silent

	mu       sync.Mutex
	requests []*rtsp.Request
	raw      [][]byte
	done     chan error // the actor's Done hook
}

func newWireServer(t *testing.T, answer func(*rtsp.Request) *rtsp.Response) *wireServer {
	return &wireServer{t: t, sys: actor.NewActorSystem(), answer: answer, done: make(chan error, 1)}
}

// spawn starts the actor, stopped when the test ends.
func (s *wireServer) spawn(p actor.Producer) {
	s.pid = s.sys.Root.Spawn(actor.PropsFromProducer(p))
	s.t.Cleanup(func() { _ = s.sys.Root.StopFuture(s.pid).Wait() })
}

// send is the actor's Send hook.
func (s *wireServer) send(b []byte) {
	msg, err := rtsp.NewReader(bytes.NewReader(b)).ReadMessage()
	if err != nil {
		s.t.Errorf("the actor sent unparseable bytes %q: %v", b, err)
		return
	}
	req := msg.(*rtsp.Request)
	s.mu.Lock()
	s.raw = append(s.raw, b)
	s.requests = append(s.requests, req)
	s.mu.Unlock()
	if resp := s.answer(req); resp != nil {
		// Like a connection's reader goroutine: a message, later.
		go s.sys.Root.Send(s.pid, &ServerResponse{Response: resp})
	}
}

// cmd sends the actor a command and waits for its reply.
func (s *wireServer) cmd(msg func(chan<- error) any) error {
	r := make(chan error, 1)
	s.sys.Root.Send(s.pid, msg(r))
	select {
	case err := <-r:
		return err
	case <-time.After(10 * time.Second):
		s.t.Fatal("no answer from the actor")
		return nil
	}
}

func (s *wireServer) tell(msg any) { s.sys.Root.Send(s.pid, msg) }

func (s *wireServer) methods() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.requests {
		out = append(out, r.Method)
	}
	return out
}

// request is the first request of method sent.
func (s *wireServer) request(method string) *rtsp.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.requests {
		if r.Method == method {
			return r
		}
	}
	s.t.Fatalf("no %s among %v", method, s.requests)
	return nil
}

// waitDone is the error the session ended with.
func (s *wireServer) waitDone() error {
	select {
	case err := <-s.done:
		return err
	case <-time.After(10 * time.Second):
		s.t.Fatal("the session did not end")
		return nil
	}
}
