package main

import (
	"crypto/x509"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/testcert"
)

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		addr, root string
		demo, loop bool
	}{
		{nil, ":8554", "", true, false},
		{[]string{"-addr", "127.0.0.1:0"}, "127.0.0.1:0", "", true, false},
		{[]string{"8554"}, ":8554", ".", false, false}, // the lab's Server.py PORT
		{[]string{"8554", "-root", "x"}, ":8554", "x", false, false},
		{[]string{"-loop", "1025", "-root", "x"}, ":1025", "x", false, true},
		{[]string{"-root", "x", "-loop"}, ":8554", "x", false, true},
	} {
		o, err := parseArgs(tc.args, io.Discard)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if o.addr != tc.addr || o.root != tc.root || o.demo != tc.demo || o.loop != tc.loop {
			t.Errorf("%q: addr %q root %q demo %v loop %v; want %q %q %v %v",
				tc.args, o.addr, o.root, o.demo, o.loop, tc.addr, tc.root, tc.demo, tc.loop)
		}
	}
}

func TestParseArgsErrors(t *testing.T) {
	if _, err := parseArgs([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v, want flag.ErrHelp", err)
	}
	var fe flagError
	if _, err := parseArgs([]string{"8554", "-nope"}, io.Discard); !errors.As(err, &fe) {
		t.Errorf("-nope: %v, want a flagError", err)
	}
	for _, args := range [][]string{{"8554", "8555"}, {"8554", "-loop", "x"}, {"0"}, {"-root", ""}, {"8554", "-addr", ":1"}} {
		if _, err := parseArgs(args, io.Discard); err == nil || errors.As(err, &fe) {
			t.Errorf("%q: %v, want an error of ours", args, err)
		}
	}
}

// TestParseSources: -source PATH=URL repeats; a bad one is refused
// without the password in the message.
func TestParseSources(t *testing.T) {
	o, err := parseArgs([]string{"-source", "cams/door=rtsp://admin:s3cret@10.0.0.5/stream", "-source", "/yard/=rtsp://cam2:8554/live", "-source-transport", "udp"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := []server.Source{{Path: "cams/door", URL: "rtsp://admin:s3cret@10.0.0.5/stream"}, {Path: "yard", URL: "rtsp://cam2:8554/live"}}
	if !slices.Equal(o.sources, want) || o.srcTransport != "udp" {
		t.Fatalf("sources %v transport %q, want %v udp", o.sources, o.srcTransport, want)
	}
	for _, v := range []string{"nopath", "=rtsp://x/y", "cam=http://admin:s3cret@x/y", "cam=admin:s3cret@x"} {
		var out strings.Builder
		_, err := parseArgs([]string{"-source", v}, &out)
		if err == nil {
			t.Errorf("-source %q accepted", v)
		}
		if strings.Contains(out.String()+err.Error(), "s3cret") {
			t.Errorf("-source %q: the error shows the password: %v %s", v, err, out.String())
		}
	}
}

// TestSourceFile: -source-file lists sources, a PATH=URL per line, with
// comments and blank lines; a bad line is named by its number, without
// its password.
func TestSourceFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "sources")
	if err := os.WriteFile(good, []byte("# cameras\ncams/door=rtsp://admin:s3cret@10.0.0.5/stream\n\n  yard=rtsp://cam2:8554/live  \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := parseArgs([]string{"-source", "a=rtsp://x/y", "-source-file", good}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := []server.Source{{Path: "a", URL: "rtsp://x/y"}, {Path: "cams/door", URL: "rtsp://admin:s3cret@10.0.0.5/stream"}, {Path: "yard", URL: "rtsp://cam2:8554/live"}}
	if !slices.Equal(o.sources, want) {
		t.Fatalf("sources %v, want %v", o.sources, want)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("cams/door=rtsp://admin:s3cret@10.0.0.5/stream\ngate=http://admin:s3cret@10.0.0.6/\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = parseArgs([]string{"-source-file", bad}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "line 2") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("a bad line: %v, want an error naming line 2 without the password", err)
	}
	if _, err := parseArgs([]string{"-source-file", filepath.Join(dir, "missing")}, io.Discard); err == nil {
		t.Fatal("a missing -source-file accepted")
	}
}

// TestSourceCA: -source-ca makes every source trust the file's
// certificates (a self-signed camera's), besides the system's; a file
// without one is refused.
func TestSourceCA(t *testing.T) {
	pair := testcert.New(t)
	o, err := parseArgs([]string{"-source", "cam=rtsps://127.0.0.1:8322/x", "-source-ca", pair.CertFile, "-source", "yard=rtsp://cam2/live"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range o.sources {
		if src.TLS == nil || src.TLS.RootCAs == nil {
			t.Fatalf("source %s trusts no -source-ca", src.Path)
		}
		if _, err := pair.Cert.Leaf.Verify(x509.VerifyOptions{Roots: src.TLS.RootCAs}); err != nil {
			t.Fatalf("source %s does not trust the certificate of -source-ca: %v", src.Path, err)
		}
	}
	if _, err := parseArgs([]string{"-source", "cam=rtsps://h/x", "-source-ca", pair.KeyFile}, io.Discard); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Fatalf("a key file as -source-ca: %v", err)
	}
	if _, err := parseArgs([]string{"-source-ca", filepath.Join(t.TempDir(), "missing")}, io.Discard); err == nil {
		t.Fatal("a missing -source-ca accepted")
	}
}
