package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/engine/cluster"
)

// clusterOptions are the flags that make the server a node of a cluster
// (engine/cluster): -cluster-listen HOST:PORT -cluster-seeds
// HOST:PORT,... -public-url rtsp://HOST:PORT.
type clusterOptions struct {
	listen, seeds, publicURL string
	user, passwordFile       string // the credentials nodes pull from each other with
	redirect                 bool   // a front door (-cluster-redirect)
	provider                 string // how members find each other: automanaged, consul, etcd
	consulAddr, etcd         string // the registry's address(es)
}

func (c *clusterOptions) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.listen, "cluster-listen", "", "join a cluster: HOST:PORT this node's membership endpoint listens on (the others' -cluster-seeds name it), its cluster messages on PORT+1; HOST is the address the other nodes reach this one at (off by default)")
	fs.StringVar(&c.seeds, "cluster-seeds", "", "the other nodes' -cluster-listen addresses, HOST:PORT,HOST:PORT,... (with -cluster-listen)")
	fs.StringVar(&c.user, "cluster-user", "", "pull the other nodes' paths as this user (each node's -users must have it, with the read right), its password in -cluster-password-file")
	fs.StringVar(&c.passwordFile, "cluster-password-file", "", "FILE holding -cluster-user's password (its first line; a file, not a flag, keeps it out of the process list)")
	fs.StringVar(&c.provider, "cluster-provider", cluster.ProviderAutomanaged, "how the nodes find each other: automanaged (each polls the -cluster-seeds), consul or etcd (a registry; -cluster-listen is then the cluster messages' address, nothing else listens)")
	fs.StringVar(&c.consulAddr, "cluster-consul-addr", "", "the Consul agent, HOST:PORT (with -cluster-provider consul; default CONSUL_HTTP_ADDR or 127.0.0.1:8500)")
	fs.StringVar(&c.etcd, "cluster-etcd-endpoints", "", "the etcd endpoints, HOST:PORT,HOST:PORT,... (with -cluster-provider etcd; default 127.0.0.1:2379)")
	fs.BoolVar(&c.redirect, "cluster-redirect", false, "a front door: answer viewers' DESCRIBE with a redirect (302) to the least loaded node of the cluster, or serve them here when this node is (with -cluster-listen)")
	fs.StringVar(&c.publicURL, "public-url", "", "rtsp://HOST:PORT the other nodes reach this server's RTSP at (with -cluster-listen; default: the -cluster-listen HOST and the RTSP port)")
}

// check validates the flags, filling in the default public URL from
// -cluster-listen's host and the RTSP address addr's port.
func (c *clusterOptions) check(addr string) error {
	if c.listen == "" {
		if c.seeds != "" || c.publicURL != "" || c.user != "" || c.passwordFile != "" || c.redirect ||
			c.provider != cluster.ProviderAutomanaged || c.consulAddr != "" || c.etcd != "" {
			return errors.New("-cluster-seeds, -public-url, -cluster-user, -cluster-password-file, -cluster-redirect and -cluster-provider need -cluster-listen HOST:PORT (the address this node joins the cluster at)")
		}
		return nil
	}
	if err := c.checkProvider(); err != nil {
		return err
	}
	if (c.user == "") != (c.passwordFile == "") {
		return errors.New("-cluster-user and -cluster-password-file go together: the user the nodes pull from each other as, and its password")
	}
	host, _, err := net.SplitHostPort(c.listen)
	if err != nil || host == "" {
		return fmt.Errorf("-cluster-listen %q: want HOST:PORT, HOST the address the other nodes reach this one at", c.listen)
	}
	if c.publicURL == "" {
		_, port, err := net.SplitHostPort(addr)
		if err != nil || port == "" || port == "0" {
			return fmt.Errorf("-public-url: give rtsp://HOST:PORT, the address the other nodes reach this server's RTSP at (the RTSP address %q has no fixed port)", addr)
		}
		c.publicURL = "rtsp://" + net.JoinHostPort(host, port)
	}
	if u, err := url.Parse(c.publicURL); err != nil || (u.Scheme != "rtsp" && u.Scheme != "rtsps") || u.Host == "" {
		return fmt.Errorf("-public-url %q: want rtsp://HOST:PORT", c.publicURL)
	}
	return nil
}

// join starts the node, when -cluster-listen is given (else nil).
func (c *clusterOptions) join(log hclog.Logger) (*cluster.Node, error) {
	if c.listen == "" {
		return nil, nil
	}
	seeds := splitList(c.seeds)
	var password string
	if c.passwordFile != "" {
		b, err := os.ReadFile(c.passwordFile)
		if err != nil {
			return nil, fmt.Errorf("-cluster-password-file: %w", err)
		}
		password, _, _ = strings.Cut(string(b), "\n")
		if password = strings.TrimRight(password, "\r"); password == "" {
			return nil, fmt.Errorf("-cluster-password-file %s: its first line is empty", c.passwordFile)
		}
	}
	n, err := cluster.Start(cluster.Config{Listen: c.listen, Seeds: seeds, PublicURL: c.publicURL,
		Provider: c.provider, Registry: c.registry(),
		User: c.user, Password: password, FrontDoor: c.redirect, Log: log.Named("cluster")})
	if err != nil {
		return nil, fmt.Errorf("joining the cluster: %w", err)
	}
	return n, nil
}

// printJoined says which cluster the server joined (after its URLs: the
// first rtsp:// URL printed is where it serves).
func (c *clusterOptions) printJoined(n *cluster.Node) {
	found := "seeds " + c.seeds
	if c.provider != cluster.ProviderAutomanaged {
		found = "members found in " + c.provider
	}
	fmt.Printf("cluster node %s at %s, %s; the other nodes pull this server's paths from %s\n", n.ID(), c.listen, found, c.publicURL)
	if c.redirect {
		fmt.Println("front door: viewers are sent to the least loaded node (this one serves them when it is)")
	}
}

// leave leaves the cluster, after the server has shut down.
func leave(n *cluster.Node, log hclog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.Stop(ctx); err != nil {
		log.Warn("leaving the cluster", "error", err)
	}
}

// checkProvider validates -cluster-provider and the registry flags.
func (c *clusterOptions) checkProvider() error {
	if !slices.Contains(cluster.Providers, c.provider) {
		return fmt.Errorf("-cluster-provider %q: want one of %s", c.provider, strings.Join(cluster.Providers, ", "))
	}
	if c.consulAddr != "" && c.provider != cluster.ProviderConsul {
		return errors.New("-cluster-consul-addr goes with -cluster-provider consul")
	}
	if c.etcd != "" && c.provider != cluster.ProviderEtcd {
		return errors.New("-cluster-etcd-endpoints goes with -cluster-provider etcd")
	}
	if c.seeds != "" && c.provider != cluster.ProviderAutomanaged {
		return fmt.Errorf("-cluster-seeds is for -cluster-provider automanaged: with %s the nodes find each other in the registry", c.provider)
	}
	for _, a := range c.registry() {
		if host, _, err := net.SplitHostPort(a); err != nil || host == "" {
			return fmt.Errorf("%s address %q: want HOST:PORT", c.provider, a)
		}
	}
	return nil
}

// registry is the registry's address(es) the flags give, if any.
func (c *clusterOptions) registry() []string {
	if c.provider == cluster.ProviderConsul && c.consulAddr != "" {
		return []string{c.consulAddr}
	}
	return splitList(c.etcd)
}

// splitList splits a comma-separated flag, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
