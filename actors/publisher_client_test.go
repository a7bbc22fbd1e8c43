package actors

import (
	"errors"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actorstream/actorstream/internal/rtsp"
)

// recordingServer answers a publisher's requests through its hooks, as a
// server in record mode on the other end of the connection would.
type recordingServer struct {
	*wireServer
	status  atomic.Pointer[PublishClientStatus]
	started []rtsp.Transport // under mu
	stops   int              // under mu
}

// recordAnswer is a well-behaved server that records.
func recordAnswer(req *rtsp.Request) *rtsp.Response {
	resp := &rtsp.Response{StatusCode: 200}
	cseq, _ := req.CSeq()
	resp.Header.Set("CSeq", cseq)
	switch req.Method {
	case "SETUP":
		resp.Header.Set("Session", "pub1;timeout=60")
		resp.Header.Set("Transport", req.Header.Get("Transport")+";server_port=7000-7001")
	case "RECORD", "TEARDOWN", "GET_PARAMETER":
		resp.Header.Set("Session", "pub1")
	}
	return resp
}

// refuse answers method with code and reason, and the rest as recordAnswer.
func refuse(method string, code int, reason string) func(*rtsp.Request) *rtsp.Response {
	return func(req *rtsp.Request) *rtsp.Response {
		resp := recordAnswer(req)
		if req.Method == method {
			resp.StatusCode, resp.Reason = code, reason
		}
		return resp
	}
}

func startPublisher(t *testing.T, cfg PublishClientConfig, answer func(*rtsp.Request) *rtsp.Response) *recordingServer {
	s := &recordingServer{wireServer: newWireServer(t, answer)}
	if cfg.URL == nil {
		cfg.URL, _ = url.Parse("rtsp://127.0.0.1:8554/live/cam")
	}
	if cfg.SDP == nil {
		cfg.SDP = []byte("v=0\r\n")
	}
	cfg.Status = &s.status
	cfg.Hooks = PublishClientHooks{
		Send: s.send,
		Start: func(tr rtsp.Transport) {
			s.mu.Lock()
			s.started = append(s.started, tr)
			s.mu.Unlock()
		},
		Stop: func() {
			s.mu.Lock()
			s.stops++
			s.mu.Unlock()
		},
		Done: func(err error) { s.done <- err },
	}
	s.spawn(NewPublishClient(cfg))
	return s
}

func (s *recordingServer) state() State { return s.status.Load().State }

func recordCmd(r chan<- error) any { return &RecordCmd{Reply: r} }

// Init → (SetupCmd: ANNOUNCE, SETUP) Ready → (RecordCmd: RECORD, media
// started) Recording → (MediaDone: media stopped, TEARDOWN) over, with
// each request what a recording server needs.
func TestPublishClientSession(t *testing.T) {
	s := startPublisher(t, PublishClientConfig{Transport: TransportUDP, ClientPorts: [2]int{5000, 5001}, SDP: []byte("v=0\r\ns=x\r\n")}, recordAnswer)
	if err := s.cmd(recordCmd); err == nil {
		t.Fatal("RECORD before SETUP accepted")
	}
	if err := s.cmd(setupCmd); err != nil {
		t.Fatal(err)
	}
	if got := s.state(); got != Ready {
		t.Fatalf("state after SETUP = %s, want ready", got)
	}
	ann := s.request("ANNOUNCE")
	if ann.URL != "rtsp://127.0.0.1:8554/live/cam" || ann.Header.Get("Content-Type") != "application/sdp" || string(ann.Body) != "v=0\r\ns=x\r\n" {
		t.Errorf("ANNOUNCE %s %q body %q", ann.URL, ann.Header.Get("Content-Type"), ann.Body)
	}
	setup := s.request("SETUP")
	if setup.URL != "rtsp://127.0.0.1:8554/live/cam/"+rtsp.TrackControl {
		t.Errorf("SETUP to %s", setup.URL)
	}
	tr, err := rtsp.ParseTransports(setup.Header.Get("Transport"))
	if err != nil || tr[0].Mode != "RECORD" || tr[0].ClientPort != [2]int{5000, 5001} || tr[0].Protocol != rtsp.ProtocolUDP {
		t.Errorf("SETUP Transport %q: %+v %v", setup.Header.Get("Transport"), tr, err)
	}
	s.mu.Lock()
	started := len(s.started)
	s.mu.Unlock()
	if started != 0 {
		t.Fatal("media started before RECORD")
	}
	if err := s.cmd(setupCmd); err == nil {
		t.Error("a second SETUP accepted")
	}

	if err := s.cmd(recordCmd); err != nil {
		t.Fatal(err)
	}
	if got := s.state(); got != Recording {
		t.Fatalf("state after RECORD = %s, want recording", got)
	}
	if rec := s.request("RECORD"); rec.Header.Get("Session") != "pub1" {
		t.Errorf("RECORD without the session: %q", rec.Header.Get("Session"))
	}
	s.mu.Lock()
	if len(s.started) != 1 || s.started[0].ServerPort != [2]int{7000, 7001} {
		t.Errorf("media started with %+v, want once to server_port 7000-7001", s.started)
	}
	s.mu.Unlock()

	s.tell(&MediaDone{}) // the file is over
	if err := s.waitDone(); err != nil {
		t.Fatalf("a publication sent to the end ended with %v", err)
	}
	if got := strings.Join(s.methods(), " "); got != "ANNOUNCE SETUP RECORD TEARDOWN" {
		t.Errorf("requests %s", got)
	}
	s.mu.Lock()
	stops := s.stops
	s.mu.Unlock()
	if stops == 0 {
		t.Error("media not stopped before TEARDOWN")
	}
	if err := s.cmd(recordCmd); err == nil {
		t.Error("RECORD after the end accepted")
	}
}

// Over TCP: interleaved channels in record mode, and those the server
// chose are the ones media goes on.
func TestPublishClientTCPChannels(t *testing.T) {
	answer := func(req *rtsp.Request) *rtsp.Response {
		resp := recordAnswer(req)
		if req.Method == "SETUP" {
			resp.Header.Set("Transport", "RTP/AVP/TCP;unicast;interleaved=4-5;mode=record")
		}
		return resp
	}
	s := startPublisher(t, PublishClientConfig{Transport: TransportTCP}, answer)
	if err := s.cmd(setupCmd); err != nil {
		t.Fatal(err)
	}
	tr, err := rtsp.ParseTransports(s.request("SETUP").Header.Get("Transport"))
	if err != nil || tr[0].Protocol != rtsp.ProtocolTCP || tr[0].Interleaved != [2]int{0, 1} || tr[0].Mode != "RECORD" {
		t.Errorf("SETUP Transport %q", s.request("SETUP").Header.Get("Transport"))
	}
	if err := s.cmd(recordCmd); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	if len(s.started) != 1 || s.started[0].Interleaved != [2]int{4, 5} {
		t.Errorf("media started with %+v, want channels 4-5", s.started)
	}
	s.mu.Unlock()
	if err := s.cmd(teardownCmd); err != nil {
		t.Fatal(err)
	}
	if err := s.waitDone(); err != nil {
		t.Fatal(err)
	}
}

// Refusals end setting up with the status, the server's reason and what
// it means to someone publishing.
func TestPublishClientRefusals(t *testing.T) {
	for _, tc := range []struct {
		method string
		code   int
		reason string
		want   []string
	}{
		{"ANNOUNCE", 455, "Path Busy", []string{"ANNOUNCE", "455 Path Busy", "another publisher"}},
		{"ANNOUNCE", 403, "Forbidden", []string{"403 Forbidden", "does not let you publish to 'live/cam'"}},
		{"ANNOUNCE", 501, "Not Implemented", []string{"501 Not Implemented", "cannot record"}},
		{"ANNOUNCE", 401, "Unauthorized", []string{"401 Unauthorized", "wants credentials"}},
		{"SETUP", 461, "Unsupported Transport", []string{"SETUP", "461", "-transport tcp"}},
		{"RECORD", 455, "Method Not Valid in This State", []string{"RECORD: 455"}},
	} {
		t.Run(tc.method+"_"+tc.reason, func(t *testing.T) {
			s := startPublisher(t, PublishClientConfig{Transport: TransportUDP, ClientPorts: [2]int{5000, 5001}}, refuse(tc.method, tc.code, tc.reason))
			err := s.cmd(setupCmd)
			if err == nil {
				err = s.cmd(recordCmd)
			}
			var se *ServerError
			if !errors.As(err, &se) || se.Code != tc.code {
				t.Fatalf("error %v, want a ServerError %d", err, tc.code)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not say %q", err, w)
				}
			}
			s.mu.Lock()
			started := len(s.started)
			s.mu.Unlock()
			if started != 0 {
				t.Error("media started after a refusal")
			}
		})
	}
}

// The connection lost while recording ends the publication with an error
// that says so, and stops the media; lost after TEARDOWN it is no error.
func TestPublishClientConnectionLost(t *testing.T) {
	s := startPublisher(t, PublishClientConfig{Transport: TransportUDP, ClientPorts: [2]int{5000, 5001}}, recordAnswer)
	if err := s.cmd(setupCmd); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd(recordCmd); err != nil {
		t.Fatal(err)
	}
	s.tell(&ConnClosed{})
	err := s.waitDone()
	if err == nil || !strings.Contains(err.Error(), "connection to the server lost") {
		t.Fatalf("ended with %v", err)
	}
	s.mu.Lock()
	stops := s.stops
	s.mu.Unlock()
	if stops == 0 {
		t.Error("media not stopped")
	}

	// A server that closes the connection instead of answering TEARDOWN.
	silent := func(req *rtsp.Request) *rtsp.Response {
		if req.Method == "TEARDOWN" {
			return nil
		}
		return recordAnswer(req)
	}
	s = startPublisher(t, PublishClientConfig{Transport: TransportUDP, ClientPorts: [2]int{5000, 5001}}, silent)
	if err := s.cmd(setupCmd); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd(recordCmd); err != nil {
		t.Fatal(err)
	}
	s.tell(&MediaDone{})
	time.Sleep(50 * time.Millisecond)
	s.tell(&ConnClosed{})
	if err := s.waitDone(); err != nil {
		t.Fatalf("closed after TEARDOWN: ended with %v", err)
	}
}

// A failing pipeline ends the publication with its error, after TEARDOWN.
func TestPublishClientMediaFailed(t *testing.T) {
	s := startPublisher(t, PublishClientConfig{Transport: TransportUDP, ClientPorts: [2]int{5000, 5001}}, recordAnswer)
	if err := s.cmd(setupCmd); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd(recordCmd); err != nil {
		t.Fatal(err)
	}
	s.tell(&MediaDone{Err: errors.New("disk on fire")})
	err := s.waitDone()
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("ended with %v", err)
	}
	if got := strings.Join(s.methods(), " "); got != "ANNOUNCE SETUP RECORD TEARDOWN" {
		t.Errorf("requests %s", got)
	}
}

// Keep-alive within the server's session timeout: GET_PARAMETER, then
// OPTIONS once the server says it does not implement GET_PARAMETER; an
// unanswered keep-alive (ffmpeg reads no requests while recording) ends
// nothing.
func TestPublishClientKeepalive(t *testing.T) {
	answer := func(req *rtsp.Request) *rtsp.Response {
		resp := recordAnswer(req)
		switch req.Method {
		case "OPTIONS":
			return nil
		case "SETUP":
			resp.Header.Set("Session", "pub1;timeout=1")
		case "GET_PARAMETER":
			resp.StatusCode = 501
		}
		return resp
	}
	s := startPublisher(t, PublishClientConfig{Transport: TransportUDP, ClientPorts: [2]int{5000, 5001}, RequestTimeout: 200 * time.Millisecond}, answer)
	if err := s.cmd(setupCmd); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd(recordCmd); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1300 * time.Millisecond) // ticks at 0.5 s, 1 s; OPTIONS unanswered at 1.2 s
	got := strings.Join(s.methods(), " ")
	if !strings.Contains(got, "RECORD GET_PARAMETER OPTIONS") {
		t.Errorf("requests %s: want GET_PARAMETER then OPTIONS within the 1 s timeout", got)
	}
	if st := s.state(); st != Recording {
		t.Errorf("state %s after keep-alives", st)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ka := s.requests[len(s.requests)-1]; ka.Header.Get("Session") != "pub1" {
		t.Errorf("keep-alive without the session")
	}
}

// A TEARDOWN sent while RECORD's answer is on its way wins: the 200 to
// RECORD that arrives after it starts no media.
func TestPublishClientTeardownBeforeRecordAnswer(t *testing.T) {
	var held sync.Map // method → *rtsp.Response held back
	answer := func(req *rtsp.Request) *rtsp.Response {
		resp := recordAnswer(req)
		if req.Method == "RECORD" || req.Method == "TEARDOWN" {
			held.Store(req.Method, resp)
			return nil
		}
		return resp
	}
	s := startPublisher(t, PublishClientConfig{Transport: TransportUDP, ClientPorts: [2]int{5000, 5001}}, answer)
	if err := s.cmd(setupCmd); err != nil {
		t.Fatal(err)
	}
	sent := func(method string) *rtsp.Response {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			if v, ok := held.Load(method); ok {
				return v.(*rtsp.Response)
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s sent", method)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	recorded, torn := make(chan error, 1), make(chan error, 1)
	s.tell(&RecordCmd{Reply: recorded})
	recordOK := sent("RECORD")
	s.tell(&TeardownCmd{Reply: torn})
	teardownOK := sent("TEARDOWN")
	s.tell(&ServerResponse{Response: recordOK}) // after TEARDOWN went out
	if err := <-recorded; err == nil {
		t.Error("a RECORD answered after TEARDOWN went out reported success")
	}
	s.tell(&ServerResponse{Response: teardownOK})
	<-torn
	if err := s.waitDone(); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.started) != 0 {
		t.Error("media started by a RECORD answer after TEARDOWN")
	}
}

// SETUP answers a publisher cannot use end setting up with what is wrong:
// no Session, or over UDP no server_port to send to.
func TestPublishClientUnusableSetupAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*rtsp.Response)
		want   string
	}{
		{"no session", func(r *rtsp.Response) { r.Header.Del("Session") }, "no usable Session header"},
		{"no server_port", func(r *rtsp.Response) { r.Header.Set("Transport", "RTP/AVP;unicast;client_port=5000-5001") }, "names no server_port"},
		{"garbage transport", func(r *rtsp.Response) { r.Header.Set("Transport", ";;==") }, "-transport tcp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			answer := func(req *rtsp.Request) *rtsp.Response {
				resp := recordAnswer(req)
				if req.Method == "SETUP" {
					tc.change(resp)
				}
				return resp
			}
			s := startPublisher(t, PublishClientConfig{Transport: TransportUDP, ClientPorts: [2]int{5000, 5001}}, answer)
			err := s.cmd(setupCmd)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("SETUP: %v, want it to say %q", err, tc.want)
			}
			if st := s.state(); st != Init {
				t.Errorf("state %s after an unusable SETUP answer", st)
			}
		})
	}
}
