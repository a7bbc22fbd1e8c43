package main

import (
	"io"
	"slices"
	"strings"
	"testing"
)

// TestClusterProviderFlags: -cluster-provider selects how the nodes find
// each other, with the registry's address for consul and etcd; mixing
// one provider's flags with another's, or an unknown provider, is a
// mistake said clearly. (No consul or etcd runs in CI: README shows how
// to run with them.)
func TestClusterProviderFlags(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		provider string
		registry []string
	}{
		{[]string{"-addr", ":8555", "-cluster-listen", "10.0.0.1:7000"}, "automanaged", nil},
		{[]string{"-addr", ":8555", "-cluster-listen", "10.0.0.1:7000", "-cluster-provider", "consul"}, "consul", nil},
		{[]string{"-addr", ":8555", "-cluster-listen", "10.0.0.1:7000", "-cluster-provider", "consul", "-cluster-consul-addr", "10.0.0.9:8500"}, "consul", []string{"10.0.0.9:8500"}},
		{[]string{"-addr", ":8555", "-cluster-listen", "10.0.0.1:7000", "-cluster-provider", "etcd", "-cluster-etcd-endpoints", "10.0.0.9:2379, 10.0.0.8:2379"}, "etcd", []string{"10.0.0.9:2379", "10.0.0.8:2379"}},
	} {
		o, err := parseArgs(tc.args, io.Discard)
		if err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if o.cluster.provider != tc.provider || !slices.Equal(o.cluster.registry(), tc.registry) {
			t.Fatalf("%q: provider %s, registry %q; want %s, %q", tc.args, o.cluster.provider, o.cluster.registry(), tc.provider, tc.registry)
		}
	}
	listen := []string{"-addr", ":8555", "-cluster-listen", "10.0.0.1:7000"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-cluster-provider", "consul"}, "need -cluster-listen"},
		{append(listen, "-cluster-provider", "zookeeper"), `-cluster-provider "zookeeper": want one of automanaged, consul, etcd`},
		{append(listen, "-cluster-consul-addr", "10.0.0.9:8500"), "goes with -cluster-provider consul"},
		{append(listen, "-cluster-provider", "consul", "-cluster-etcd-endpoints", "10.0.0.9:2379"), "goes with -cluster-provider etcd"},
		{append(listen, "-cluster-provider", "etcd", "-cluster-seeds", "10.0.0.2:7000"), "-cluster-seeds is for -cluster-provider automanaged"},
		{append(listen, "-cluster-provider", "etcd", "-cluster-etcd-endpoints", "etcd1"), `etcd address "etcd1": want HOST:PORT`},
	} {
		_, err := parseArgs(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error saying %q", tc.args, err, tc.want)
		}
	}
}
