// Package hosturl makes the URLs people can paste to reach a listener. A
// listener's own address is often not one: ":8554" listens on every
// address and reports itself as "[::]:8554", which no client can dial.
// The server, the examples and the metrics endpoint all print their
// addresses through URLs, so they agree.
package hosturl

import (
	"net"
	"net/netip"
	"strconv"
)

// URLs returns scheme://HOST:PORT/path for every address a client can dial
// to reach a listener on addr: the address itself when it is a specific
// one; for an address that is not (":8554", "0.0.0.0:8554", "[::]:8554"),
// the loopback addresses first (to paste on this machine), then the
// machine's other interface addresses (to paste on another one). See
// FromInterfaces.
func URLs(scheme string, addr net.Addr, path string) []string {
	return FromInterfaces(scheme, addr, path, interfaceAddrs())
}

// FromInterfaces is URLs with the machine's interface addresses given
// (as net.InterfaceAddrs returns them: *net.IPNet or *net.IPAddr).
//
// IPv6 hosts are bracketed. Link-local addresses (fe80::/10,
// 169.254.0.0/16) are left out: they work only with a zone ("%eth0"),
// which few programs accept in a URL; a listener on one specific
// link-local address is written with its zone escaped as RFC 6874 says
// ("[fe80::1%25eth0]"). A wildcard IPv4 address lists IPv4 addresses
// only; an IPv6 one both families (Go's listeners on "[::]" take both).
// When no usable address is left, the loopback address stands in.
func FromInterfaces(scheme string, addr net.Addr, path string, ifaces []net.Addr) []string {
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil { // not an IP listener: the best there is
		return []string{scheme + "://" + addr.String() + "/" + path}
	}
	port := strconv.Itoa(int(ap.Port()))
	url := func(ip netip.Addr) string {
		return scheme + "://" + host(ip) + ":" + port + "/" + path
	}
	ip := ap.Addr().Unmap()
	if !ip.IsUnspecified() {
		return []string{url(ip)}
	}
	var loop, other []netip.Addr
	seen := make(map[netip.Addr]bool)
	for _, a := range ifaces {
		var n net.IP
		switch a := a.(type) {
		case *net.IPNet:
			n = a.IP
		case *net.IPAddr:
			n = a.IP
		}
		c, ok := netip.AddrFromSlice(n)
		c = c.Unmap()
		switch {
		case !ok, seen[c], ip.Is4() && !c.Is4(), c.IsUnspecified(),
			c.IsLinkLocalUnicast(), c.IsMulticast():
			continue
		}
		seen[c] = true
		if c.IsLoopback() {
			loop = append(loop, c)
		} else {
			other = append(other, c)
		}
	}
	if len(loop) == 0 {
		loop = []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1})}
	}
	var urls []string
	for _, group := range [][]netip.Addr{loop, other} {
		for _, want4 := range []bool{true, false} { // IPv4 first: shorter to type
			for _, c := range group {
				if c.Is4() == want4 {
					urls = append(urls, url(c))
				}
			}
		}
	}
	return urls
}

// host is ip as a URL's host: bracketed for IPv6, with a zone escaped as
// "%25" (RFC 6874).
func host(ip netip.Addr) string {
	if ip.Is4() {
		return ip.String()
	}
	s := "[" + ip.WithZone("").String()
	if z := ip.Zone(); z != "" {
		s += "%25" + z
	}
	return s + "]"
}

// interfaceAddrs lists the addresses of the interfaces that are up. An
// error leaves the list empty, and URLs falls back to the loopback
// address.
func interfaceAddrs() []net.Addr {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var all []net.Addr
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 {
			continue
		}
		if as, err := ifc.Addrs(); err == nil {
			all = append(all, as...)
		}
	}
	return all
}
