package cluster

import (
	"strings"
	"testing"

	"github.com/asynkron/protoactor-go/cluster/clusterproviders/consul"
)

// TestMembershipFor: the provider a configuration selects, where its
// cluster messages go (automanaged: PORT+1 beside the membership
// endpoint; consul and etcd: the listen address itself), and the
// mistakes said clearly. (No consul or etcd runs here: their clients are
// made, not connected.)
func TestMembershipFor(t *testing.T) {
	m, err := membershipFor(Config{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.close()
	_, port, _ := splitHostPort(m.listen)
	if _, aport, _ := splitHostPort(m.actorAddr); m.name != ProviderAutomanaged || m.health == nil || aport != port+1 {
		t.Fatalf("default: %s, messages at %s, listening at %s: want automanaged, PORT+1", m.name, m.actorAddr, m.listen)
	}

	for _, tc := range []struct {
		cfg  Config
		name string
	}{
		{Config{Provider: ProviderConsul, Listen: "10.0.0.1:7000", Registry: []string{"10.0.0.9:8500"}}, ProviderConsul},
		{Config{Provider: ProviderConsul, Listen: "10.0.0.1:7000"}, ProviderConsul},
		{Config{Provider: ProviderEtcd, Listen: "10.0.0.1:7000", Registry: []string{"10.0.0.9:2379", "10.0.0.8:2379"}}, ProviderEtcd},
	} {
		m, err := membershipFor(tc.cfg)
		if err != nil {
			t.Fatalf("%+v: %v", tc.cfg, err)
		}
		if m.name != tc.name || m.health != nil || m.actorAddr != "10.0.0.1:7000" {
			t.Fatalf("%+v: %s, messages at %s, endpoint %v: want %s, messages at the listen address, no endpoint", tc.cfg, m.name, m.actorAddr, m.health, tc.name)
		}
	}

	// The registries' providers are protoactor's; their clients connect
	// when the node starts. (etcd's client is not made here: it dials in
	// the background at once, and protoactor never closes it.)
	m, _ = membershipFor(Config{Provider: ProviderConsul, Listen: "10.0.0.1:7000", Registry: []string{"127.0.0.1:1"}})
	if p, err := m.provider(nil); err != nil {
		t.Fatal(err)
	} else if _, ok := p.(*consul.Provider); !ok {
		t.Fatalf("consul: a %T", p)
	}
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Provider: "zookeeper", Listen: "10.0.0.1:7000"}, `cluster provider "zookeeper": want one of [automanaged consul etcd]`},
		{Config{Provider: ProviderConsul, Listen: "10.0.0.1:7000", Seeds: []string{"10.0.0.2:7000"}}, "seeds are for the automanaged provider"},
		{Config{Listen: "127.0.0.1:0", Registry: []string{"10.0.0.9:8500"}}, "for the consul or etcd provider"},
		{Config{Provider: ProviderConsul, Listen: "10.0.0.1:7000", Registry: []string{"a:1", "b:2"}}, "one agent address"},
		{Config{Provider: ProviderEtcd, Listen: "10.0.0.1:7000", Registry: []string{"nohost"}}, `etcd address "nohost": want HOST:PORT`},
		{Config{Provider: ProviderEtcd, Listen: "0.0.0.0:7000"}, "not \"0.0.0.0\""},
	} {
		if _, err := membershipFor(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error saying %q", tc.cfg, err, tc.want)
		}
	}
}
