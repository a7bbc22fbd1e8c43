package auth

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	iterations = 1000 // keep FormatUser fast in tests
	dummy.iter = iterations
	os.Exit(m.Run())
}

// Published examples: RFC 2617 §3.5 and RFC 7616 §3.9.1.
func TestPublishedExamples(t *testing.T) {
	tests := []struct {
		name, alg, user, password, realm, nonce, nc, cnonce, method, uri, want string
	}{
		{"RFC 2617 §3.5", "MD5", "Mufasa", "Circle Of Life", "testrealm@host.com",
			"dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", "GET", "/dir/index.html",
			"6629fae49393a05397450978507c4ef1"},
		{"RFC 7616 §3.9.1 MD5", "MD5", "Mufasa", "Circle of Life", "http-auth@example.org",
			"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "00000001", "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
			"GET", "/dir/index.html", "8ca523f5e9506fed4657c9700eebdbec"},
		{"RFC 7616 §3.9.1 SHA-256", "SHA-256", "Mufasa", "Circle of Life", "http-auth@example.org",
			"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "00000001", "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
			"GET", "/dir/index.html", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alg := lookupAlgorithm(tt.alg)
			got := alg.response(alg.ha1(tt.user, tt.realm, tt.password), tt.nonce, tt.nc, tt.cnonce, "auth", tt.method, tt.uri)
			if got != tt.want {
				t.Fatalf("response = %s, want %s", got, tt.want)
			}
			// Same through the client, from the challenge as published.
			c := &Client{User: tt.user, Password: tt.password}
			ch := `Digest realm="` + tt.realm + `", qop="auth,auth-int", algorithm=` + tt.alg +
				`, nonce="` + tt.nonce + `", opaque="5ccc069c403ebaf9f0171e9517f40e41"`
			if _, err := c.Update([]string{ch}, false); err != nil {
				t.Fatal(err)
			}
			c.mu.Lock()
			h := c.digestLocked(tt.method, tt.uri, tt.cnonce)
			c.mu.Unlock()
			a, err := parseAuthorization(h)
			if err != nil {
				t.Fatalf("%s: %v", h, err)
			}
			for k, v := range map[string]string{"response": tt.want, "nc": tt.nc, "qop": "auth", "cnonce": tt.cnonce,
				"username": tt.user, "uri": tt.uri, "algorithm": tt.alg, "opaque": "5ccc069c403ebaf9f0171e9517f40e41"} {
				if a.params[k] != v {
					t.Errorf("%s = %q, want %q in %s", k, a.params[k], v, h)
				}
			}
		})
	}
}

// RFC 7616 §3.9.1 sends SHA-256 then MD5; a client picks SHA-256 whatever
// the order.
func TestRespondPrefersStrongest(t *testing.T) {
	sha := `Digest realm="r", qop="auth", algorithm=SHA-256, nonce="n1"`
	md := `Digest realm="r", qop="auth", algorithm=MD5, nonce="n2"`
	tests := []struct {
		name    string
		headers []string
		tls     bool
		want    string // prefix or algorithm
		err     error
	}{
		{"sha first", []string{sha, md}, false, "SHA-256", nil},
		{"sha last", []string{md, sha}, false, "SHA-256", nil},
		{"one value, many challenges", []string{`Basic realm="r", ` + md + `, Newauth realm="x", ` + sha}, false, "SHA-256", nil},
		{"digest over basic", []string{`Basic realm="r"`, md}, true, "MD5", nil},
		{"sha-512-256", []string{md, `Digest realm="r", nonce="n", algorithm=SHA-512-256, qop="auth"`}, false, "SHA-512-256", nil},
		{"unknown algorithm skipped", []string{`Digest realm="r", nonce="n", algorithm=SHA3`, md}, false, "MD5", nil},
		{"auth-int only skipped", []string{`Digest realm="r", nonce="n", qop="auth-int"`}, false, "", ErrNoChallenge},
		{"basic only, tls", []string{`Basic realm="r"`}, true, "Basic", nil},
		{"basic only, plain", []string{`Basic realm="r"`}, false, "", ErrBasicNeedsTLS},
		{"nothing", []string{`Bearer realm="r"`, ``, `Digest`}, false, "", ErrNoChallenge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Respond(tt.headers, "DESCRIBE", "rtsp://h/a", "u", "p", tt.tls)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if tt.want == "Basic" {
				if got != "Basic "+base64.StdEncoding.EncodeToString([]byte("u:p")) {
					t.Fatalf("got %q", got)
				}
				return
			}
			a, err := parseAuthorization(got)
			if err != nil {
				t.Fatal(err)
			}
			alg := a.params["algorithm"]
			if alg == "" {
				alg = "MD5"
			}
			if alg != tt.want {
				t.Fatalf("algorithm %q, want %q: %s", alg, tt.want, got)
			}
		})
	}
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func hdr(v string) func(string) string {
	return func(n string) string { return map[string]string{"Authorization": v}[n] }
}
func noHdr(string) string { return "" }
func mustUsers(t *testing.T, lines ...string) *Users {
	t.Helper()
	u, err := ParseUsers(strings.NewReader(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

const realm = "actorstream"

func line(t *testing.T, name, password string, paths []string) string {
	t.Helper()
	l, err := FormatUser(name, password, realm, paths)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func newAuth(t *testing.T) (*Authenticator, *clock) {
	t.Helper()
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	u := mustUsers(t, line(t, "alice", "wonder land", nil), line(t, "bob", "builder", []string{"cam1", "lab/**"}))
	return &Authenticator{Users: u, Realm: realm, Now: c.now}, c
}

func asChallenge(t *testing.T, err error) *Challenge {
	t.Helper()
	var ch *Challenge
	if !errors.As(err, &ch) {
		t.Fatalf("err = %v, want *Challenge", err)
	}
	return ch
}

// firstChallenge runs an unauthenticated request and returns its challenge.
func firstChallenge(t *testing.T, a *Authenticator, tls bool) *Challenge {
	t.Helper()
	_, err := a.Check("DESCRIBE", "rtsp://h/cam1", noHdr, tls, "cam1")
	return asChallenge(t, err)
}

func TestChallengeOrder(t *testing.T) {
	a, _ := newAuth(t)
	ch := firstChallenge(t, a, false)
	hs := ch.Headers()
	n := ch.Nonce
	want := []string{
		`Digest realm="actorstream", nonce="` + n + `", algorithm=SHA-256, qop="auth"`,
		`Digest realm="actorstream", nonce="` + n + `", algorithm=MD5, qop="auth"`,
	}
	if strings.Join(hs, "\n") != strings.Join(want, "\n") {
		t.Fatalf("headers\n%s\nwant\n%s", strings.Join(hs, "\n"), strings.Join(want, "\n"))
	}
	if hs := firstChallenge(t, a, true).Headers(); len(hs) != 3 || !strings.HasPrefix(hs[2], `Basic realm="actorstream"`) {
		t.Fatalf("over TLS: %q", hs)
	}
	a.DisableSHA256 = true
	if hs := firstChallenge(t, a, false).Headers(); len(hs) != 1 || !strings.Contains(hs[0], "algorithm=MD5") {
		t.Fatalf("DisableSHA256: %q", hs)
	}
}

// lastDigest returns the last Digest challenge, as FFmpeg, GStreamer and
// live555 use.
func lastDigest(hs []string) string {
	last := ""
	for _, h := range hs {
		if strings.HasPrefix(h, "Digest ") {
			last = h
		}
	}
	return last
}

func TestRoundTrip(t *testing.T) {
	const method, uri = "DESCRIBE", "rtsp://h/cam1"
	md5 := func(parts ...string) string { return algMD5.h(parts...) }
	tests := []struct {
		name string
		tls  bool
		auth func(ch *Challenge) string
	}{
		{"Respond (SHA-256)", false, func(ch *Challenge) string {
			h, err := Respond(ch.Headers(), method, uri, "alice", "wonder land", false)
			if err != nil || !strings.Contains(h, "algorithm=SHA-256") {
				t.Fatalf("%q %v", h, err)
			}
			return h
		}},
		{"Respond to MD5 only", false, func(ch *Challenge) string {
			h, _ := Respond(ch.Headers()[1:], method, uri, "alice", "wonder land", false)
			return h
		}},
		{"Basic over TLS", true, func(ch *Challenge) string {
			return "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:wonder land"))
		}},
		{"FFmpeg-like: last Digest, MD5, qop=auth, quoted algorithm", false, func(ch *Challenge) string {
			p := parseChallenges([]string{lastDigest(ch.Headers())})[0].params
			if p["algorithm"] != "MD5" {
				t.Fatalf("last Digest challenge is %q, FFmpeg would fail", p["algorithm"])
			}
			ha1 := md5("alice", realm, "wonder land")
			resp := md5(ha1, p["nonce"], "00000001", "abcdef0123456789", "auth", md5(method, uri))
			return `Digest username="alice",realm="` + p["realm"] + `",nonce="` + p["nonce"] + `",uri="` + uri +
				`",response="` + resp + `",algorithm="MD5",qop="auth",cnonce="abcdef0123456789",nc=00000001`
		}},
		{"GStreamer-like: last Digest, MD5, no qop, no algorithm", false, func(ch *Challenge) string {
			p := parseChallenges([]string{lastDigest(ch.Headers())})[0].params
			resp := md5(md5("alice", realm, "wonder land"), p["nonce"], md5(method, uri))
			return `Digest username="alice", realm="` + p["realm"] + `", nonce="` + p["nonce"] + `", uri="` + uri + `", response="` + resp + `"`
		}},
		{"first-header MD5-only client", false, func(ch *Challenge) string {
			p := parseChallenges(ch.Headers()[:1])[0].params // the SHA-256 one
			resp := md5(md5("alice", realm, "wonder land"), p["nonce"], md5(method, uri))
			return `Digest username="alice", realm="` + p["realm"] + `", nonce="` + p["nonce"] + `", uri="` + uri + `", response="` + resp + `"`
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := newAuth(t)
			ch := firstChallenge(t, a, tt.tls)
			user, err := a.Check(method, uri, hdr(tt.auth(ch)), tt.tls, "cam1")
			if err != nil || user != "alice" {
				t.Fatalf("Check = %q, %v", user, err)
			}
		})
	}
}

func TestClientReusesNonce(t *testing.T) {
	a, _ := newAuth(t)
	c := &Client{User: "alice", Password: "wonder land"}
	if h := c.Authorize("OPTIONS", "rtsp://h/cam1"); h != "" {
		t.Fatalf("Authorize before Update = %q", h)
	}
	retry, err := c.Update(firstChallenge(t, a, false).Headers(), false)
	if err != nil || !retry {
		t.Fatal(retry, err)
	}
	for i, m := range []string{"DESCRIBE", "SETUP", "PLAY", "GET_PARAMETER", "TEARDOWN"} {
		h := c.Authorize(m, "rtsp://h/cam1")
		if !strings.Contains(h, "nc=0000000"+string(rune('1'+i))) {
			t.Fatalf("%s: %s", m, h)
		}
		if _, err := a.Check(m, "rtsp://h/cam1", hdr(h), false, "cam1"); err != nil {
			t.Fatalf("%s: %v", m, err)
		}
	}
	// Wrong password: the server challenges again, not stale: do not retry.
	bad := &Client{User: "alice", Password: "wrong"}
	bad.Update(firstChallenge(t, a, false).Headers(), false)
	_, err = a.Check("PLAY", "rtsp://h/cam1", hdr(bad.Authorize("PLAY", "rtsp://h/cam1")), false, "cam1")
	if retry, err := bad.Update(asChallenge(t, err).Headers(), false); err != nil || retry {
		t.Fatalf("retry after refused credentials = %v, %v", retry, err)
	}
}

func TestParseChallenges(t *testing.T) {
	got := parseChallenges([]string{
		`Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`,
		`Digest realm = "r" , nonce=abc/def=, qop="auth, auth-int", algorithm=SHA-256`,
		`Digest realm="unterminated`,
	})
	if len(got) != 3 {
		t.Fatalf("%d challenges: %+v", len(got), got)
	}
	if got[0].scheme != "newauth" || got[0].params["title"] != `Login to "apps"` || got[1].scheme != "basic" || got[1].params["realm"] != "simple" {
		t.Fatalf("%+v", got[:2])
	}
	if p := got[2].params; got[2].scheme != "digest" || p["realm"] != "r" || p["nonce"] != "abc/def=" || p["qop"] != "auth, auth-int" || p["algorithm"] != "SHA-256" {
		t.Fatalf("%+v", got[2])
	}
}

func TestClientInfoNextNonce(t *testing.T) {
	c := &Client{User: "u", Password: "p"}
	c.Update([]string{`Digest realm="r", nonce="a", qop="auth"`}, false)
	c.Authorize("OPTIONS", "*")
	c.Info(`nextnonce="b", qop=auth, rspauth="x"`)
	h := c.Authorize("OPTIONS", "*")
	if !strings.Contains(h, `nonce="b"`) || !strings.Contains(h, "nc=00000001") {
		t.Fatal(h)
	}
}

func TestRejections(t *testing.T) {
	const method, uri = "PLAY", "rtsp://h/cam1"
	good := func(a *Authenticator) string {
		h, err := Respond(firstChallenge(t, a, false).Headers(), method, uri, "alice", "wonder land", false)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	basic := func(user, pw string) func(*Authenticator) string {
		return func(*Authenticator) string {
			return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
		}
	}
	tests := []struct {
		name  string
		tls   bool
		allow bool // AllowBasic
		auth  func(a *Authenticator) string
		stale bool
	}{
		{"wrong password digest", false, false, func(a *Authenticator) string {
			h, _ := Respond(firstChallenge(t, a, false).Headers(), method, uri, "alice", "wonderland", false)
			return h
		}, false},
		{"unknown user digest", false, false, func(a *Authenticator) string {
			h, _ := Respond(firstChallenge(t, a, false).Headers(), method, uri, "carol", "x", false)
			return h
		}, false},
		{"wrong password basic", true, false, basic("alice", "nope"), false},
		{"unknown user basic", true, false, basic("mallory", "nope"), false},
		{"basic without TLS", false, false, basic("alice", "wonder land"), false},
		{"forged nonce", false, false, func(a *Authenticator) string {
			// A well-formed nonce whose MAC does not match.
			h := good(a)
			p, _ := parseAuthorization(h)
			raw, err := base64.RawURLEncoding.DecodeString(p.params["nonce"])
			if err != nil {
				t.Fatal(err)
			}
			raw[9] ^= 1
			return strings.Replace(h, p.params["nonce"], base64.RawURLEncoding.EncodeToString(raw), 1)
		}, false},
		{"nonce of another server", false, false, func(*Authenticator) string {
			other, _ := newAuth(t)
			return good(other)
		}, false},
		{"uri mismatch", false, false, func(a *Authenticator) string {
			h, _ := Respond(firstChallenge(t, a, false).Headers(), method, "rtsp://h/cam2", "alice", "wonder land", false)
			return h
		}, false},
		{"wrong realm", false, false, func(a *Authenticator) string {
			return strings.Replace(good(a), `realm="actorstream"`, `realm="other"`, 1)
		}, false},
		{"unsupported algorithm", false, false, func(a *Authenticator) string {
			return strings.Replace(good(a), "algorithm=SHA-256", "algorithm=MD5-sess", 1)
		}, false},
		{"tampered response", false, false, func(a *Authenticator) string {
			h := good(a)
			i := strings.Index(h, `response="`) + len(`response="`)
			c := byte('0')
			if h[i] == '0' {
				c = '1'
			}
			return h[:i] + string(c) + h[i+1:]
		}, false},
		{"unknown scheme", false, false, func(*Authenticator) string { return "Bearer abc" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := newAuth(t)
			a.AllowBasic = tt.allow
			user, err := a.Check(method, uri, hdr(tt.auth(a)), tt.tls, "cam1")
			ch := asChallenge(t, err)
			if user != "" || ch.Stale != tt.stale {
				t.Fatalf("user %q stale %v (%v)", user, ch.Stale, err)
			}
			if len(ch.Headers()) == 0 || ch.Nonce == "" {
				t.Fatal("challenge without headers")
			}
		})
	}
}

func TestBasicAllowed(t *testing.T) {
	a, _ := newAuth(t)
	h := hdr("Basic " + base64.StdEncoding.EncodeToString([]byte("alice:wonder land")))
	if _, err := a.Check("DESCRIBE", "rtsp://h/cam1", h, false, "cam1"); err == nil {
		t.Fatal("Basic accepted over plain TCP")
	}
	a.AllowBasic = true
	if hs := firstChallenge(t, a, false).Headers(); !strings.HasPrefix(hs[len(hs)-1], "Basic ") {
		t.Fatalf("AllowBasic does not offer Basic: %q", hs)
	}
	for range 2 { // second time from the cache
		if u, err := a.Check("DESCRIBE", "rtsp://h/cam1", h, false, "cam1"); err != nil || u != "alice" {
			t.Fatal(u, err)
		}
	}
	if _, err := a.Check("DESCRIBE", "rtsp://h/cam1", hdr("Basic "+base64.StdEncoding.EncodeToString([]byte("alice:wonder"))), false, "cam1"); err == nil {
		t.Fatal("wrong password accepted after a cached success")
	}
}

func TestStaleAndReplay(t *testing.T) {
	const uri = "rtsp://h/cam1"
	a, clk := newAuth(t)
	c := &Client{User: "alice", Password: "wonder land"}
	c.Update(firstChallenge(t, a, false).Headers(), false)
	check := func(m string) error {
		_, err := a.Check(m, uri, hdr(c.Authorize(m, uri)), false, "cam1")
		return err
	}
	if err := check("DESCRIBE"); err != nil {
		t.Fatal(err)
	}
	// Sliding lifetime: used every 50 s, the nonce lives on.
	for range 4 {
		clk.add(50 * time.Second)
		if err := check("GET_PARAMETER"); err != nil {
			t.Fatal(err)
		}
	}
	// Idle longer than NonceTTL: stale=true, and the client retries.
	clk.add(61 * time.Second)
	ch := asChallenge(t, check("GET_PARAMETER"))
	if !ch.Stale || !strings.Contains(ch.Headers()[0], "stale=true") {
		t.Fatalf("expired nonce: %+v", ch)
	}
	if retry, err := c.Update(ch.Headers(), false); !retry || err != nil {
		t.Fatal("client does not retry on stale", retry, err)
	}
	if err := check("GET_PARAMETER"); err != nil {
		t.Fatal(err)
	}
	// An unused nonce expires NonceTTL after issue.
	ch = firstChallenge(t, a, false)
	clk.add(61 * time.Second)
	h, _ := Respond(ch.Headers(), "PLAY", uri, "alice", "wonder land", false)
	if _, err := a.Check("PLAY", uri, hdr(h), false, "cam1"); !asChallenge(t, err).Stale {
		t.Fatal("unused expired nonce not stale")
	}
	// A wrong password with an expired nonce is not "stale".
	h, _ = Respond(ch.Headers(), "PLAY", uri, "alice", "bad", false)
	if _, err := a.Check("PLAY", uri, hdr(h), false, "cam1"); asChallenge(t, err).Stale {
		t.Fatal("wrong password reported stale")
	}
	// NonceMaxAge caps the lifetime however often the nonce is used.
	a.NonceMaxAge = 90 * time.Second
	c.Update(firstChallenge(t, a, false).Headers(), false)
	clk.add(50 * time.Second)
	if err := check("OPTIONS"); err != nil {
		t.Fatal(err)
	}
	clk.add(50 * time.Second)
	if !asChallenge(t, check("OPTIONS")).Stale {
		t.Fatal("NonceMaxAge not enforced")
	}
	// Replay: the same qop=auth answer twice.
	a.NonceMaxAge = 0
	c.Update(firstChallenge(t, a, false).Headers(), false)
	h = c.Authorize("PLAY", uri)
	if _, err := a.Check("PLAY", uri, hdr(h), false, "cam1"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Check("PLAY", uri, hdr(h), false, "cam1"); err == nil {
		t.Fatal("replayed request accepted")
	}
	// A lower nonce count is refused too.
	h2 := c.Authorize("PLAY", uri)
	h3 := c.Authorize("PLAY", uri)
	if _, err := a.Check("PLAY", uri, hdr(h3), false, "cam1"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Check("PLAY", uri, hdr(h2), false, "cam1"); err == nil {
		t.Fatal("older nonce count accepted")
	}
	// RequireQop refuses the RFC 2069 form.
	a.RequireQop = true
	ch = firstChallenge(t, a, false)
	p := parseChallenges(ch.Headers()[1:])[0].params
	resp := algMD5.h(algMD5.h("alice", realm, "wonder land"), p["nonce"], algMD5.h("PLAY", uri))
	if _, err := a.Check("PLAY", uri, hdr(`Digest username="alice", realm="actorstream", nonce="`+p["nonce"]+`", uri="`+uri+`", response="`+resp+`"`), false, "cam1"); err == nil {
		t.Fatal("RequireQop accepted a no-qop answer")
	}
}

func TestPaths(t *testing.T) {
	a, _ := newAuth(t)
	tests := []struct {
		user, path string
		ok         bool
	}{
		{"alice", "anything/at/all", true},
		{"bob", "cam1", true},
		{"bob", "/cam1", true},
		{"bob", "cam2", false},
		{"bob", "lab", true},
		{"bob", "lab/x/y.mjpeg", true},
		{"bob", "laboratory", false},
		{"bob", "", true}, // OPTIONS *
	}
	pw := map[string]string{"alice": "wonder land", "bob": "builder"}
	for _, tt := range tests {
		t.Run(tt.user+" "+tt.path, func(t *testing.T) {
			uri := "rtsp://h/" + strings.TrimPrefix(tt.path, "/")
			ch := firstChallenge(t, a, false)
			h, _ := Respond(ch.Headers(), "DESCRIBE", uri, tt.user, pw[tt.user], false)
			user, err := a.Check("DESCRIBE", uri, hdr(h), false, tt.path)
			if user != tt.user {
				t.Fatalf("user %q, want %q (%v)", user, tt.user, err)
			}
			var fb *Forbidden
			if tt.ok != (err == nil) || (!tt.ok && !errors.As(err, &fb)) {
				t.Fatalf("err = %v", err)
			}
			// Users.Allowed decides as Check does.
			if got := a.Users.Allowed(tt.user, tt.path); got != tt.ok {
				t.Fatalf("Allowed = %v", got)
			}
		})
	}
	if a.Users.Allowed("nobody", "cam1") {
		t.Fatal("Allowed for an unknown user")
	}
}

func TestUsersFile(t *testing.T) {
	dir := t.TempDir()
	fn := filepath.Join(dir, "users")
	os.WriteFile(fn, []byte("# actorstream users\n\n"), 0o644)
	if err := AddUser(fn, "alice", "first", realm, nil); err != nil {
		t.Fatal(err)
	}
	if err := AddUser(fn, "bob", "builder", realm, []string{"cam1", "lab/**"}); err != nil {
		t.Fatal(err)
	}
	if err := AddUser(fn, "alice", "second", realm, nil); err != nil { // replaces
		t.Fatal(err)
	}
	fi, err := os.Stat(fn)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", fi.Mode(), err)
	}
	data, _ := os.ReadFile(fn)
	if !strings.HasPrefix(string(data), "# actorstream users\n") || strings.Count(string(data), "alice:") != 1 {
		t.Fatalf("file:\n%s", data)
	}
	u, err := LoadUsers(fn)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(u.Names(), ","); got != "alice,bob" {
		t.Fatal(got)
	}
	a := &Authenticator{Users: u, Realm: realm, AllowBasic: true}
	for _, tc := range []struct{ user, pw, path string }{{"alice", "second", "x"}, {"bob", "builder", "lab/1"}} {
		uri := "rtsp://h/" + tc.path
		_, err := a.Check("DESCRIBE", uri, noHdr, false, tc.path)
		h, _ := Respond(asChallenge(t, err).Headers(), "DESCRIBE", uri, tc.user, tc.pw, false)
		if got, err := a.Check("DESCRIBE", uri, hdr(h), false, tc.path); err != nil || got != tc.user {
			t.Fatalf("digest %s: %q %v", tc.user, got, err)
		}
		b := "Basic " + base64.StdEncoding.EncodeToString([]byte(tc.user+":"+tc.pw))
		if got, err := a.Check("DESCRIBE", uri, hdr(b), false, tc.path); err != nil || got != tc.user {
			t.Fatalf("basic %s: %q %v", tc.user, got, err)
		}
	}
	h := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:first"))
	if _, err := a.Check("DESCRIBE", "rtsp://h/x", hdr(h), false, "x"); err == nil {
		t.Fatal("replaced password still works")
	}
	// A different realm: Digest cannot work for that user.
	b := &Authenticator{Users: u, Realm: "other"}
	_, err = b.Check("DESCRIBE", "rtsp://h/x", noHdr, false, "x")
	hh, _ := Respond(asChallenge(t, err).Headers(), "DESCRIBE", "rtsp://h/x", "alice", "second", false)
	if _, err := b.Check("DESCRIBE", "rtsp://h/x", hdr(hh), false, "x"); err == nil {
		t.Fatal("user of another realm accepted")
	}
}

func TestParseUsersErrors(t *testing.T) {
	good := line(t, "alice", "pw", nil)
	tests := []string{
		"alice",
		"alice:plain:pw",
		"alice:digest:",
		"alice:digest:md5=00",
		"alice:digest:md5=" + strings.Repeat("0", 32), // no realm
		"alice:digest:realm=r;md5=" + strings.Repeat("g", 32),
		"alice:digest:realm=r;realm=s;md5=" + strings.Repeat("0", 32),
		"alice:digest:pbkdf2=sha256$0$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",
		"alice:digest:pbkdf2=md5$1000$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",
		"alice:digest:realm=r;sha256=" + strings.Repeat("0", 64) + ";paths=[",
		"alice:digest:realm=r;sha256=" + strings.Repeat("0", 64) + ";color=blue",
		good + "\n" + good,
	}
	for _, in := range tests {
		if _, err := ParseUsers(strings.NewReader(in)); err == nil {
			t.Errorf("ParseUsers(%q) succeeded", in)
		}
	}
	for _, bad := range []struct{ name, realm string }{{"a:b", realm}, {"", realm}, {"#x", realm}, {"a", ""}, {"a", "x;y"}} {
		if _, err := FormatUser(bad.name, "pw", bad.realm, nil); err == nil {
			t.Errorf("FormatUser(%q, %q) succeeded", bad.name, bad.realm)
		}
	}
	if _, err := FormatUser("a", "pw", realm, []string{"x,y"}); err == nil {
		t.Error("FormatUser accepted a path with ','")
	}
}

var malformed = []string{
	"", " ", "Digest", "Digest ", "Basic", "Basic !!!", "Basic YWxpY2U=", // no colon
	"Basic " + base64.StdEncoding.EncodeToString([]byte("alice")),
	`Digest username="alice`, `Digest username=alice"`, `Digest =x`, `Digest username`,
	`Digest username="a", username="b", realm="actorstream", nonce="x", uri="u", response="r"`,
	`Digest username="a\`, `Digest username="\"`, "Digest username=\"a\x00\"", "Digest a=b c",
	`Digest username="alice", realm="actorstream", nonce="", uri="rtsp://h/cam1", response="x"`,
	`Digest username="alice", realm="actorstream", nonce="AAAA", uri="rtsp://h/cam1", response="x", qop=auth`,
	`Digest username="alice", realm="actorstream", nonce="AAAA", uri="rtsp://h/cam1", response="x", qop=auth, nc=zz, cnonce="c"`,
	`Digest username="alice", realm="actorstream", nonce="AAAA", uri="rtsp://h/cam1", response="x", qop=auth-int, nc=00000001, cnonce="c"`,
	`Digest username="alice", realm="actorstream", nonce="AAAA", uri="rtsp://h/cam1", response="x", nc=00000001`,
	`Digest username*=UTF-8''alice, realm="actorstream", nonce="AAAA", uri="rtsp://h/cam1", response="x"`,
	"Digest " + strings.Repeat("a=b,", 5000),
	strings.Repeat(",", 100), `Digest ,,,, ,`,
}

func TestMalformedAuthorization(t *testing.T) {
	a, _ := newAuth(t)
	for _, h := range malformed {
		for _, tls := range []bool{false, true} {
			user, err := a.Check("DESCRIBE", "rtsp://h/cam1", hdr(h), tls, "cam1")
			if user != "" {
				t.Fatalf("%q: user %q", h, user)
			}
			asChallenge(t, err)
		}
	}
}

func FuzzParseAuthorization(f *testing.F) {
	for _, h := range malformed {
		f.Add(h)
	}
	f.Add(`Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"`)
	f.Add(`Digest realm="r", qop="auth, auth-int", algorithm=SHA-256, nonce="n", Basic realm="r"`)
	auth := &Authenticator{Users: &Users{byName: map[string]*userRecord{}}, Realm: realm}
	f.Fuzz(func(t *testing.T, h string) {
		if p, err := parseAuthorization(h); err == nil && p.scheme == "" {
			t.Fatalf("%q: empty scheme", h)
		}
		if user, err := auth.Check("DESCRIBE", "rtsp://h/cam1", hdr(h), true, "cam1"); err == nil || user != "" {
			t.Fatalf("%q authenticated as %q", h, user)
		}
		parseChallenges([]string{h})
		c := &Client{User: "u", Password: "p", AllowBasic: true}
		if _, err := c.Update([]string{h}, false); err == nil {
			c.Authorize("DESCRIBE", "rtsp://h/cam1")
			c.Info(h)
		}
	})
}

func BenchmarkPBKDF2Default(b *testing.B) {
	r := &userRecord{salt: make([]byte, saltLen), key: make([]byte, keyLen), iter: DefaultIterations}
	for b.Loop() {
		r.verifyPassword("password")
	}
}
