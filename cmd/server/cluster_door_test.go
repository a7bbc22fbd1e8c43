package main

import (
	"io"
	"strings"
	"testing"
)

// TestClusterRedirectFlag: -cluster-redirect makes a node a front door;
// without -cluster-listen it is a mistake said clearly.
func TestClusterRedirectFlag(t *testing.T) {
	o, err := parseArgs([]string{"-addr", ":8555", "-cluster-listen", "10.0.0.1:7000", "-cluster-redirect"}, io.Discard)
	if err != nil || !o.cluster.redirect {
		t.Fatalf("-cluster-redirect: %+v, %v", o.cluster, err)
	}
	o, err = parseArgs([]string{"-addr", ":8555", "-cluster-listen", "10.0.0.1:7000"}, io.Discard)
	if err != nil || o.cluster.redirect {
		t.Fatalf("no -cluster-redirect: %+v, %v", o.cluster, err)
	}
	_, err = parseArgs([]string{"-cluster-redirect"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "need -cluster-listen") {
		t.Fatalf("-cluster-redirect alone: %v, want an error saying it needs -cluster-listen", err)
	}
}
