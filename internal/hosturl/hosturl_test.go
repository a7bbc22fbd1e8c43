package hosturl

import (
	"net"
	"slices"
	"testing"
)

func ipnet(s string) net.Addr {
	ip, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	n.IP = ip
	return n
}

// A machine with loopback, a LAN address, a global IPv6 address and
// link-local ones on both families.
var machine = []net.Addr{
	ipnet("192.168.1.5/24"), ipnet("fe80::1c2:3ff:fe04:506/64"), ipnet("2001:db8::5/64"),
	ipnet("127.0.0.1/8"), ipnet("::1/128"), ipnet("169.254.10.1/16"),
	&net.IPAddr{IP: net.ParseIP("10.0.0.7")}, ipnet("192.168.1.5/24"), // a duplicate
}

func TestFromInterfaces(t *testing.T) {
	tcp := func(s string) net.Addr {
		a, err := net.ResolveTCPAddr("tcp", s)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	for _, tc := range []struct {
		name   string
		addr   net.Addr
		ifaces []net.Addr
		want   []string
	}{
		{"every address (what :8554 reports)", tcp("[::]:8554"), machine, []string{
			"rtsp://127.0.0.1:8554/a.mjpeg", "rtsp://[::1]:8554/a.mjpeg",
			"rtsp://192.168.1.5:8554/a.mjpeg", "rtsp://10.0.0.7:8554/a.mjpeg", "rtsp://[2001:db8::5]:8554/a.mjpeg"}},
		{"every IPv4 address", tcp("0.0.0.0:8554"), machine, []string{
			"rtsp://127.0.0.1:8554/a.mjpeg", "rtsp://192.168.1.5:8554/a.mjpeg", "rtsp://10.0.0.7:8554/a.mjpeg"}},
		{"no interfaces known", tcp("[::]:8554"), nil, []string{"rtsp://127.0.0.1:8554/a.mjpeg"}},
		{"one address", tcp("192.168.1.5:9000"), machine, []string{"rtsp://192.168.1.5:9000/a.mjpeg"}},
		{"one IPv6 address", tcp("[2001:db8::5]:9000"), machine, []string{"rtsp://[2001:db8::5]:9000/a.mjpeg"}},
		{"a link-local address with its zone", &net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 8554, Zone: "eth0"}, machine,
			[]string{"rtsp://[fe80::1%25eth0]:8554/a.mjpeg"}},
		{"a 4-in-6 address", &net.TCPAddr{IP: net.ParseIP("::ffff:10.0.0.7"), Port: 8554}, nil, []string{"rtsp://10.0.0.7:8554/a.mjpeg"}},
		{"not an IP address", &net.UnixAddr{Name: "/run/x.sock", Net: "unix"}, machine, []string{"rtsp:///run/x.sock/a.mjpeg"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := FromInterfaces("rtsp", tc.addr, "a.mjpeg", tc.ifaces)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestURLsOnThisMachine: whatever the machine's interfaces, a listener on
// every address gets the loopback URL first and no unspecified host.
func TestURLsOnThisMachine(t *testing.T) {
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := URLs("http", ln.Addr(), "metrics")
	if len(got) == 0 || got[0] != "http://127.0.0.1:"+portOf(ln)+"/metrics" {
		t.Fatalf("URLs = %q, want the loopback one first", got)
	}
	for _, u := range got {
		if slices.Contains([]string{"::", "0.0.0.0", ""}, hostOf(u)) {
			t.Errorf("unpasteable URL %q", u)
		}
	}
}

func portOf(ln net.Listener) string {
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	return p
}

func hostOf(url string) string {
	for i := len("http://"); i < len(url); i++ {
		if url[i] == '/' {
			h, _, _ := net.SplitHostPort(url[len("http://"):i])
			return h
		}
	}
	return ""
}
