package rtsp

import (
	"reflect"
	"testing"
)

func noInter(t Transport) Transport { t.Interleaved = [2]int{-1, -1}; return t }

var transportTests = []struct {
	in   string
	want []Transport
}{
	{"RTP/AVP;unicast;client_port=5000-5001", []Transport{noInter(Transport{
		Profile: "RTP/AVP", Protocol: "UDP", Unicast: true, ClientPort: [2]int{5000, 5001}})}},
	{"RTP/AVP;unicast;client_port=5000", []Transport{noInter(Transport{
		Profile: "RTP/AVP", Protocol: "UDP", Unicast: true, ClientPort: [2]int{5000, 5001}})}},
	{"RTP/UDP; client_port= 18778", []Transport{noInter(Transport{
		Profile: "RTP/UDP", Protocol: "UDP", ClientPort: [2]int{18778, 18779}})}},
	{"RTP/AVP/TCP;unicast;interleaved=0-1", []Transport{{
		Profile: "RTP/AVP/TCP", Protocol: "TCP", Unicast: true, Interleaved: [2]int{0, 1}}}},
	{"RTP/AVP/TCP;interleaved=4", []Transport{{
		Profile: "RTP/AVP/TCP", Protocol: "TCP", Interleaved: [2]int{4, 5}}}},
	{"rtp/avp/udp;UNICAST;Client_Port=6970-6971;mode=\"PLAY\"", []Transport{noInter(Transport{
		Profile: "RTP/AVP/UDP", Protocol: "UDP", Unicast: true, ClientPort: [2]int{6970, 6971}, Mode: "PLAY"})}},
	{"RTP/AVP;unicast;client_port=5000-5001;server_port=6000-6001;ssrc=1a2b3c4d", []Transport{noInter(Transport{
		Profile: "RTP/AVP", Protocol: "UDP", Unicast: true, ClientPort: [2]int{5000, 5001},
		ServerPort: [2]int{6000, 6001}, SSRC: 0x1A2B3C4D, HasSSRC: true})}},
	{"RTP/AVP;multicast;destination=224.2.0.1;port=3456-3457;ttl=16", []Transport{noInter(Transport{
		Profile: "RTP/AVP", Protocol: "UDP", Multicast: true, Destination: "224.2.0.1",
		Port: [2]int{3456, 3457}, TTL: 16})}},
	{"RTP/AVP/TCP;unicast;interleaved=0-1, RTP/AVP;unicast;client_port=5000-5001", []Transport{
		{Profile: "RTP/AVP/TCP", Protocol: "TCP", Unicast: true, Interleaved: [2]int{0, 1}},
		noInter(Transport{Profile: "RTP/AVP", Protocol: "UDP", Unicast: true, ClientPort: [2]int{5000, 5001}}),
	}},
	{"RTP/AVP;unicast;client_port=65535", []Transport{noInter(Transport{
		Profile: "RTP/AVP", Protocol: "UDP", Unicast: true, ClientPort: [2]int{65535, 0}})}},
	{"RTP/AVP;unicast;x-unknown=foo;source=10.0.0.1;", []Transport{noInter(Transport{
		Profile: "RTP/AVP", Protocol: "UDP", Unicast: true, Source: "10.0.0.1"})}},
}

var badTransports = []string{
	"", ",", "RTP", "RTP/SAVP", "HTTP/1.1", "garbage;client_port=5000",
	"RTP/AVP;client_port=0", "RTP/AVP;client_port=65536", "RTP/AVP;client_port=5001-5000",
	"RTP/AVP;client_port=-5000", "RTP/AVP;client_port=+5000", "RTP/AVP;client_port=abc",
	"RTP/AVP;client_port=", "RTP/AVP;client_port", "RTP/AVP;client_port=5000-",
	"RTP/AVP/TCP;interleaved=1-0", "RTP/AVP/TCP;interleaved=256", "RTP/AVP/TCP;interleaved=0-0",
	"RTP/AVP/TCP;interleaved=255", "RTP/AVP;ssrc=123456789", "RTP/AVP;ssrc=xyz", "RTP/AVP;ssrc=-1",
	"RTP/AVP;ttl=0", "RTP/AVP;unicast;multicast", "RTP/AVP;destination=\"a;b\"",
	"RTP/AVP;mode=\"\"", "RTP/AVP;b@d=1", "RTP/AVP;client_port=99999999999999999999",
}

func TestParseTransports(t *testing.T) {
	for _, tt := range transportTests {
		got, err := ParseTransports(tt.in)
		if err != nil {
			t.Errorf("ParseTransports(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseTransports(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
		}
		// Round trip: the formatted form parses back to the same specs.
		again, err := ParseTransports(FormatTransports(got))
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("round trip of %q via %q: %+v, %v", tt.in, FormatTransports(got), again, err)
		}
	}
	for _, in := range badTransports {
		if got, err := ParseTransports(in); err == nil {
			t.Errorf("ParseTransports(%q) = %+v, want error", in, got)
		}
	}
}

func TestTransportString(t *testing.T) {
	tests := []struct {
		t    Transport
		want string
	}{
		{Transport{Profile: "RTP/AVP", Unicast: true, ClientPort: [2]int{5000, 5001}, ServerPort: [2]int{6000, 6001}, SSRC: 0x1A2B3C4D, HasSSRC: true},
			"RTP/AVP;unicast;client_port=5000-5001;server_port=6000-6001;ssrc=1A2B3C4D"},
		{Transport{Profile: "RTP/AVP/TCP", Protocol: "TCP", Unicast: true, Interleaved: [2]int{0, 1}, SSRC: 7, HasSSRC: true},
			"RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=00000007"},
		// Zero-value Interleaved means absent, as does -1.
		{Transport{Protocol: "UDP", ClientPort: [2]int{5000, 5001}}, "RTP/AVP;client_port=5000-5001"},
		{Transport{Protocol: "TCP", Interleaved: [2]int{-1, -1}}, "RTP/AVP/TCP"},
		{Transport{Profile: "RTP/UDP", ClientPort: [2]int{65535, 0}, Mode: "PLAY"}, "RTP/UDP;client_port=65535;mode=PLAY"},
	}
	for _, tt := range tests {
		if got := tt.t.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func FuzzParseTransport(f *testing.F) {
	for _, tt := range transportTests {
		f.Add(tt.in)
	}
	for _, in := range badTransports {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ts, err := ParseTransports(in)
		if err != nil {
			return
		}
		s := FormatTransports(ts)
		again, err := ParseTransports(s)
		if err != nil {
			t.Fatalf("%q -> %q does not parse: %v", in, s, err)
		}
		if !reflect.DeepEqual(again, ts) {
			t.Fatalf("%q -> %q -> %+v, want %+v", in, s, again, ts)
		}
	})
}
