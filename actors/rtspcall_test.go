package actors

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/internal/rtsp"
)

// callsActor is the smallest owner of an rtspCalls: it runs what the test
// gives it on the actor and routes answers and timeouts as Player and
// PublishClient do.
type callsActor struct{ c *rtspCalls }

func (a *callsActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case func(actor.Context):
		m(ctx)
	case *ServerResponse:
		a.c.answer(ctx, m.Response)
	case *rtspTimeout:
		a.c.timedOut(ctx, m)
	case *ConnClosed:
		a.c.closed(ctx)
	}
}

type callsHarness struct {
	t       *testing.T
	sys     *actor.ActorSystem
	pid     *actor.PID
	c       *rtspCalls
	sent    chan *rtsp.Request
	results chan callResult
}

type callResult struct {
	resp *rtsp.Response
	err  error
}

func startCalls(t *testing.T, user, password string, wait time.Duration) *callsHarness {
	h := &callsHarness{t: t, sys: actor.NewActorSystem(), sent: make(chan *rtsp.Request, 16), results: make(chan callResult, 16)}
	h.c = newRTSPCalls(user, password, false, "test-agent", func(b []byte) {
		msg, err := rtsp.NewReader(bytes.NewReader(b)).ReadMessage()
		if err != nil {
			t.Errorf("unparseable request %q: %v", b, err)
			return
		}
		h.sent <- msg.(*rtsp.Request)
	}, hclog.NewNullLogger())
	h.c.wait = func(string) time.Duration { return wait }
	h.pid = h.sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &callsActor{c: h.c} }))
	t.Cleanup(func() { _ = h.sys.Root.StopFuture(h.pid).Wait() })
	return h
}

// do runs f on the actor and waits for it.
func (h *callsHarness) do(f func(actor.Context)) {
	done := make(chan struct{})
	h.sys.Root.Send(h.pid, func(ctx actor.Context) { f(ctx); close(done) })
	<-done
}

func (h *callsHarness) call(method string) {
	h.do(func(ctx actor.Context) {
		h.c.request(ctx, method, "rtsp://h/x", nil, nil, func(_ actor.Context, resp *rtsp.Response, err error) {
			h.results <- callResult{resp, err}
		})
	})
}

func (h *callsHarness) next() *rtsp.Request {
	select {
	case r := <-h.sent:
		return r
	case <-time.After(5 * time.Second):
		h.t.Fatal("no request sent")
		return nil
	}
}

func (h *callsHarness) result() callResult {
	select {
	case r := <-h.results:
		return r
	case <-time.After(5 * time.Second):
		h.t.Fatal("no result")
		return callResult{}
	}
}

func (h *callsHarness) answer(code int, cseq string, hdr ...string) {
	resp := &rtsp.Response{StatusCode: code}
	if cseq != "" {
		resp.Header.Set("CSeq", cseq)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		resp.Header.Add(hdr[i], hdr[i+1])
	}
	h.sys.Root.Send(h.pid, &ServerResponse{Response: resp})
}

// A 401 is answered once with Digest credentials under a new CSeq; the
// second 401 reaches the handler.
func TestRTSPCallsRetriesOnceWithCredentials(t *testing.T) {
	h := startCalls(t, "alice", "secret", 5*time.Second)
	h.call("DESCRIBE")
	first := h.next()
	if first.Header.Get("Authorization") != "" || first.Header.Get("User-Agent") != "test-agent" {
		t.Errorf("first request headers %v", first.Header)
	}
	challenge := `Digest realm="r", nonce="n1"`
	h.answer(401, "1", "WWW-Authenticate", challenge)
	retry := h.next()
	if cseq, _ := retry.CSeq(); cseq != "2" || !strings.HasPrefix(retry.Header.Get("Authorization"), "Digest ") {
		t.Fatalf("retry CSeq %q Authorization %q", cseq, retry.Header.Get("Authorization"))
	}
	h.answer(401, "2", "WWW-Authenticate", challenge)
	if r := h.result(); r.err != nil || r.resp.StatusCode != 401 {
		t.Fatalf("second 401: %+v", r)
	}
	select {
	case r := <-h.sent:
		t.Fatalf("a second retry: %s", r.Method)
	case <-time.After(50 * time.Millisecond):
	}
}

// The Session goes on every request once set, but on an OPTIONS that is
// no keep-alive.
func TestRTSPCallsSessionHeader(t *testing.T) {
	h := startCalls(t, "", "", 5*time.Second)
	h.do(func(actor.Context) { h.c.session = "s1" })
	for _, tc := range []struct {
		method  string
		useOpts bool
		want    string
	}{{"PLAY", false, "s1"}, {"OPTIONS", false, ""}, {"OPTIONS", true, "s1"}} {
		h.do(func(actor.Context) { h.c.useOpts = tc.useOpts })
		h.call(tc.method)
		r := h.next()
		if got := r.Header.Get("Session"); got != tc.want {
			t.Errorf("%s (keep-alive %v): Session %q, want %q", tc.method, tc.useOpts, got, tc.want)
		}
		cseq, _ := r.CSeq()
		h.answer(200, cseq)
		h.result()
	}
}

// An answer without CSeq goes to the one pending request only where the
// owner allows it (soleAnswer), and never when two are pending.
func TestRTSPCallsAnswerWithoutCSeq(t *testing.T) {
	for _, sole := range []bool{false, true} {
		h := startCalls(t, "", "", 300*time.Millisecond)
		h.do(func(actor.Context) { h.c.soleAnswer = sole })
		h.call("TEARDOWN")
		h.next()
		h.answer(501, "")
		r := h.result()
		if sole && (r.err != nil || r.resp.StatusCode != 501) {
			t.Errorf("soleAnswer: %+v, want the 501", r)
		}
		if !sole && (r.err == nil || !strings.Contains(r.err.Error(), "no answer from the server within 300ms")) {
			t.Errorf("without soleAnswer: %+v, want a timeout", r)
		}
	}
	h := startCalls(t, "", "", 300*time.Millisecond)
	h.do(func(actor.Context) { h.c.soleAnswer = true })
	h.call("GET_PARAMETER")
	h.call("TEARDOWN")
	h.answer(200, "")
	for range 2 {
		if r := h.result(); r.err == nil {
			t.Errorf("an answer without CSeq taken with two pending: %+v", r.resp)
		}
	}
}

// The connection closing fails what is pending, naming the request.
func TestRTSPCallsConnectionClosed(t *testing.T) {
	h := startCalls(t, "", "", 5*time.Second)
	h.call("RECORD")
	h.next()
	h.sys.Root.Send(h.pid, &ConnClosed{})
	if r := h.result(); r.err == nil || r.err.Error() != "RECORD: connection closed by the server" {
		t.Fatalf("got %+v", r)
	}
}
