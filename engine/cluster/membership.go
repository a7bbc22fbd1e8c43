package cluster

import (
	"net"
	"net/http"
	"time"

	"github.com/asynkron/protoactor-go/cluster/clusterproviders/automanaged"
	"github.com/labstack/echo"
)

// newMembership is protoactor's automanaged provider: every Refresh each
// node asks every seed's /_health who it is (its member id, the address
// of its cluster messages) and the answers are the member list; a node
// that does not answer has left.
//
// The provider's own HTTP server listens on 0.0.0.0 at a port given as a
// number; NewWithTesting takes the server instead, so ours serves on the
// listener Start opened — the configured address only, its port known
// before the cluster starts (tests bind port 0).
func newMembership(n *Node, health net.Listener, refresh time.Duration, seeds []string) *automanaged.AutoManagedProvider {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Listener = health
	_, port, _ := splitHostPort(health.Addr().String())
	e.GET("/_health", func(c echo.Context) error {
		host, mport, err := n.system.GetHostPort()
		if err != nil {
			return c.NoContent(http.StatusServiceUnavailable) // not started yet
		}
		return c.JSON(http.StatusOK, automanaged.NewNode(n.cfg.Name, n.system.ID, host, mport, port, n.cluster.GetClusterKinds()))
	})
	return automanaged.NewWithTesting(refresh, port, e, seeds...)
}
