package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
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
}

func (c *clusterOptions) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.listen, "cluster-listen", "", "join a cluster: HOST:PORT this node's membership endpoint listens on (the others' -cluster-seeds name it), its cluster messages on PORT+1; HOST is the address the other nodes reach this one at (off by default)")
	fs.StringVar(&c.seeds, "cluster-seeds", "", "the other nodes' -cluster-listen addresses, HOST:PORT,HOST:PORT,... (with -cluster-listen)")
	fs.StringVar(&c.user, "cluster-user", "", "pull the other nodes' paths as this user (each node's -users must have it, with the read right), its password in -cluster-password-file")
	fs.StringVar(&c.passwordFile, "cluster-password-file", "", "FILE holding -cluster-user's password (its first line; a file, not a flag, keeps it out of the process list)")
	fs.BoolVar(&c.redirect, "cluster-redirect", false, "a front door: answer viewers' DESCRIBE with a redirect (302) to the least loaded node of the cluster, or serve them here when this node is (with -cluster-listen)")
	fs.StringVar(&c.publicURL, "public-url", "", "rtsp://HOST:PORT the other nodes reach this server's RTSP at (with -cluster-listen; default: the -cluster-listen HOST and the RTSP port)")
}

// check validates the flags, filling in the default public URL from
// -cluster-listen's host and the RTSP address addr's port.
func (c *clusterOptions) check(addr string) error {
	if c.listen == "" {
		if c.seeds != "" || c.publicURL != "" || c.user != "" || c.passwordFile != "" || c.redirect {
			return errors.New("-cluster-seeds, -public-url, -cluster-user, -cluster-password-file and -cluster-redirect need -cluster-listen HOST:PORT (the address this node joins the cluster at)")
		}
		return nil
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
	var seeds []string
	for _, s := range strings.Split(c.seeds, ",") {
		if s = strings.TrimSpace(s); s != "" {
			seeds = append(seeds, s)
		}
	}
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
		User: c.user, Password: password, FrontDoor: c.redirect, Log: log.Named("cluster")})
	if err != nil {
		return nil, fmt.Errorf("joining the cluster: %w", err)
	}
	return n, nil
}

// printJoined says which cluster the server joined (after its URLs: the
// first rtsp:// URL printed is where it serves).
func (c *clusterOptions) printJoined(n *cluster.Node) {
	fmt.Printf("cluster node %s at %s, seeds %s; the other nodes pull this server's paths from %s\n", n.ID(), c.listen, c.seeds, c.publicURL)
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
