package main

import (
	"io"
	"strings"
	"testing"
)

// TestClusterFlags: -cluster-listen joins a cluster, its public URL by
// default the listen host with the RTSP port; the other cluster flags
// alone, or a listen address without a host, are mistakes said clearly.
func TestClusterFlags(t *testing.T) {
	o, err := parseArgs([]string{"-addr", ":8555", "-cluster-listen", "10.0.0.1:7000", "-cluster-seeds", "10.0.0.2:7000,10.0.0.3:7000"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.cluster.publicURL != "rtsp://10.0.0.1:8555" || o.cluster.seeds != "10.0.0.2:7000,10.0.0.3:7000" {
		t.Fatalf("cluster options %+v", o.cluster)
	}
	o, err = parseArgs([]string{"-cluster-listen", "10.0.0.1:7000", "-public-url", "rtsp://edge1.example:554"}, io.Discard)
	if err != nil || o.cluster.publicURL != "rtsp://edge1.example:554" {
		t.Fatalf("-public-url: %+v, %v", o.cluster, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-cluster-seeds", "10.0.0.2:7000"}, "need -cluster-listen"},
		{[]string{"-public-url", "rtsp://a:1"}, "need -cluster-listen"},
		{[]string{"-cluster-listen", ":7000"}, "HOST the address the other nodes reach"},
		{[]string{"-cluster-listen", "10.0.0.1:7000", "-addr", "127.0.0.1:0"}, "no fixed port"},
		{[]string{"-cluster-listen", "10.0.0.1:7000", "-public-url", "http://a:1"}, "want rtsp://HOST:PORT"},
	} {
		_, err := parseArgs(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error saying %q", tc.args, err, tc.want)
		}
	}
}
