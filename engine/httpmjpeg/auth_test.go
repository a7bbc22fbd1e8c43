package httpmjpeg

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/auth"
	"github.com/actorstream/actorstream/internal/enginetest"
)

// authHTTP requires authentication as -users does: alice may watch
// anything, bob only lab.mjpeg.
func authHTTP(t *testing.T, allowBasic bool) *testHTTP {
	var lines []string
	for _, u := range []struct {
		name, pw string
		paths    []string
	}{{"alice", "wonderland", nil}, {"bob", "builder", []string{"lab.mjpeg"}}} {
		line, err := auth.FormatUser(u.name, u.pw, "test", u.paths)
		enginetest.Must(t, err)
		lines = append(lines, line)
	}
	users, err := auth.ParseUsers(strings.NewReader(strings.Join(lines, "\n") + "\n"))
	enginetest.Must(t, err)
	return startHTTP(t, server.Config{Auth: &auth.Authenticator{Users: users, Realm: "test", AllowBasic: allowBasic}}, Config{})
}

// digestGet asks for path, answers the 401's Digest challenge as user,
// and returns the second response.
func digestGet(t *testing.T, th *testHTTP, path, user, password string) *http.Response {
	t.Helper()
	first := get(t, "GET", th.url(path))
	if first.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without credentials: %s", first.Status)
	}
	u, err := url.Parse(th.url(path))
	enginetest.Must(t, err)
	authz, err := auth.Respond(first.Header.Values("WWW-Authenticate"), "GET", u.RequestURI(), user, password, false)
	enginetest.Must(t, err)
	return get(t, "GET", th.url(path), "Authorization", authz)
}

// TestAuthentication: with users, a stream and the index need their
// credentials (HTTP Digest, SHA-256 offered before MD5), and the user's
// permission on the path; Basic only where the server allows it.
func TestAuthentication(t *testing.T) {
	th := authHTTP(t, false)
	t.Run("challenge", func(t *testing.T) {
		for _, path := range []string{"clip.mjpeg" + Suffix, ""} {
			resp := get(t, "GET", th.url(path))
			hs := resp.Header.Values("WWW-Authenticate")
			if resp.StatusCode != 401 || len(hs) != 2 || !strings.Contains(hs[0], "SHA-256") || !strings.Contains(hs[1], "MD5") {
				t.Fatalf("/%s: %s, WWW-Authenticate %q", path, resp.Status, hs)
			}
		}
	})
	t.Run("right password plays", func(t *testing.T) {
		p := readParts(t, digestGet(t, th, "clip.mjpeg"+Suffix, "alice", "wonderland"))
		p.next()
	})
	t.Run("wrong password", func(t *testing.T) {
		if resp := digestGet(t, th, "clip.mjpeg"+Suffix, "alice", "looking-glass"); resp.StatusCode != 401 {
			t.Fatalf("%s", resp.Status)
		}
	})
	t.Run("no permission on the path", func(t *testing.T) {
		if resp := digestGet(t, th, "clip.mjpeg"+Suffix, "bob", "builder"); resp.StatusCode != 403 {
			t.Fatalf("%s", resp.Status)
		}
		p := readParts(t, digestGet(t, th, "lab.mjpeg"+Suffix, "bob", "builder"))
		p.next()
	})
	t.Run("the index lists what the user may watch", func(t *testing.T) {
		resp := digestGet(t, th, "", "bob", "builder")
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(string(body), `data-path="lab.mjpeg"`) || strings.Contains(string(body), "clip.mjpeg") {
			t.Fatalf("%s:\n%s", resp.Status, body)
		}
	})
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:wonderland"))
	t.Run("Basic refused without TLS", func(t *testing.T) {
		resp := get(t, "GET", th.url("clip.mjpeg"+Suffix), "Authorization", basic)
		if resp.StatusCode != 401 {
			t.Fatalf("%s", resp.Status)
		}
		for _, h := range resp.Header.Values("WWW-Authenticate") {
			if strings.HasPrefix(h, "Basic") {
				t.Fatalf("Basic offered without TLS: %q", h)
			}
		}
	})
	t.Run("Basic where allowed", func(t *testing.T) {
		th := authHTTP(t, true)
		p := readParts(t, get(t, "GET", th.url("clip.mjpeg"+Suffix), "Authorization", basic))
		p.next()
	})
}

// TestCurlDigest: curl --digest gets the index and a stream's first
// frames (interop: curl's own Digest, not ours).
func TestCurlDigest(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but no curl")
		}
		t.Skip("no curl")
	}
	th := authHTTP(t, false)
	out, err := exec.Command(curl, "-sS", "--fail", "--digest", "-u", "alice:wonderland", th.url("")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), `data-path="clip.mjpeg"`) {
		t.Fatalf("curl index: %v\n%s", err, out)
	}
	// The stream ends after the file's 50 frames (2 s at 25 fps).
	out, err = exec.Command(curl, "-sS", "--fail", "--digest", "-u", "alice:wonderland", th.url("clip.mjpeg"+Suffix)).CombinedOutput()
	if err != nil || strings.Count(string(out), "Content-Type: image/jpeg") != 50 {
		t.Fatalf("curl stream: %v, %d parts", err, strings.Count(string(out), "Content-Type: image/jpeg"))
	}
}
