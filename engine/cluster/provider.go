package cluster

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/consul"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/etcd"
	"github.com/hashicorp/consul/api"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// How the members find each other: protoactor's cluster providers.
const (
	// ProviderAutomanaged: each node serves its membership endpoint at
	// Config.Listen and polls the Seeds' (membership.go). No registry to
	// run; every node lists the others (or a few seeds).
	ProviderAutomanaged = "automanaged"
	// ProviderConsul: each node registers with a Consul agent
	// (Config.Registry, HOST:PORT; default CONSUL_HTTP_ADDR or
	// 127.0.0.1:8500), with a TTL it refreshes, and watches the service's
	// healthy members.
	ProviderConsul = "consul"
	// ProviderEtcd: each node keeps a key under a lease in etcd
	// (Config.Registry, its endpoints; default 127.0.0.1:2379) and
	// watches the others'.
	ProviderEtcd = "etcd"
)

// Providers are the names Config.Provider takes.
var Providers = []string{ProviderAutomanaged, ProviderConsul, ProviderEtcd}

// membership is what joining with a provider needs, decided before the
// node starts.
type membership struct {
	name      string       // the provider's
	health    net.Listener // automanaged's membership endpoint; nil with a registry
	listen    string       // where the node says it listens
	actorAddr string       // HOST:PORT of the cluster messages
	seeds     []string     // automanaged's
	registry  []string     // consul's agent, etcd's endpoints
}

// membershipFor checks cfg's provider settings. With automanaged it
// binds the membership endpoint (Listen, or the Listener given), the
// cluster messages going to PORT+1; with a registry nothing listens but
// the cluster messages, at Listen itself.
func membershipFor(cfg Config) (*membership, error) {
	m := &membership{name: cfg.Provider, registry: cfg.Registry}
	switch cfg.Provider {
	case "", ProviderAutomanaged:
		m.name = ProviderAutomanaged
		if len(cfg.Registry) > 0 {
			return nil, fmt.Errorf("a registry address is for the consul or etcd provider, not %s", m.name)
		}
	case ProviderConsul, ProviderEtcd:
		if len(cfg.Seeds) > 0 {
			return nil, fmt.Errorf("seeds are for the automanaged provider: with %s the members find each other in the registry", m.name)
		}
		if cfg.Provider == ProviderConsul && len(cfg.Registry) > 1 {
			return nil, fmt.Errorf("consul: one agent address, HOST:PORT (got %d)", len(cfg.Registry))
		}
		for _, r := range cfg.Registry {
			if _, _, err := splitHostPort(r); err != nil {
				return nil, fmt.Errorf("%s address %q: %w", m.name, r, err)
			}
		}
		m.actorAddr = cfg.ActorAddr
		if m.actorAddr == "" {
			if err := reachable("cluster listen address", cfg.Listen); err != nil {
				return nil, err
			}
			m.actorAddr = cfg.Listen
		}
		m.listen = m.actorAddr
		return m, nil
	default:
		return nil, fmt.Errorf("cluster provider %q: want one of %v", cfg.Provider, Providers)
	}
	m.health = cfg.Listener
	if m.health == nil {
		if err := reachable("cluster listen address", cfg.Listen); err != nil {
			return nil, err
		}
		for _, s := range cfg.Seeds {
			if err := reachable("cluster seed", s); err != nil {
				return nil, err
			}
		}
		var err error
		if m.health, err = net.Listen("tcp", cfg.Listen); err != nil {
			return nil, fmt.Errorf("cluster listen address: %w", err)
		}
	}
	m.listen = m.health.Addr().String()
	m.actorAddr = cfg.ActorAddr
	if m.actorAddr == "" {
		host, port, _ := net.SplitHostPort(m.listen)
		p, _ := strconv.Atoi(port)
		m.actorAddr = net.JoinHostPort(host, strconv.Itoa(p+1))
	}
	m.seeds = []string{m.listen}
	for _, s := range cfg.Seeds {
		if err := reachable("cluster seed", s); err != nil {
			m.close()
			return nil, err
		}
		if !slices.Contains(m.seeds, s) {
			m.seeds = append(m.seeds, s)
		}
	}
	return m, nil
}

// provider makes the provider for node n (the registries' clients are
// made here, when the node starts).
func (m *membership) provider(n *Node) (cluster.ClusterProvider, error) {
	switch m.name {
	case ProviderConsul:
		cfg := api.DefaultConfig() // CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN, ... from the environment
		if len(m.registry) > 0 {
			cfg.Address = m.registry[0]
		}
		p, err := consul.NewWithConfig(cfg)
		if err != nil {
			return nil, fmt.Errorf("consul at %s: %w", cfg.Address, err)
		}
		return p, nil
	case ProviderEtcd:
		endpoints := m.registry
		if len(endpoints) == 0 {
			endpoints = []string{"127.0.0.1:2379"}
		}
		p, err := etcd.NewWithConfig("/actorstream", clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second})
		if err != nil {
			return nil, fmt.Errorf("etcd at %v: %w", endpoints, err)
		}
		return p, nil
	}
	return newMembership(n, m.health, n.cfg.Refresh, m.seeds), nil
}

// close frees what membershipFor bound, when the node does not start.
func (m *membership) close() {
	if m.health != nil {
		m.health.Close()
	}
}
