package client

import (
	"context"
	"time"

	"github.com/actorstream/actorstream/internal/rtsp"
	"github.com/actorstream/actorstream/pipeline/stages/receive"
)

// reportInterval is how often the client sends RTCP Receiver Reports: RFC
// 3550 §6.2's minimum of 5 s, the one sender being the only other member.
const reportInterval = 5 * time.Second

// reportLoop sends a Receiver Report (RFC 3550 §6.4.2) on rx's transport
// every reportInterval until ctx ends, once media has arrived: servers
// read loss and jitter from them, and some end sessions that send none.
func (c *Client) reportLoop(ctx context.Context, rx *reception) {
	tick := time.NewTicker(reportInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			c.sendReport(rx, now)
		}
	}
}

// sendReport sends one Receiver Report for what the JitterCheck counted.
func (c *Client) sendReport(rx *reception, now time.Time) {
	if c.recv.Snapshot().PacketsReceived == 0 {
		return
	}
	b, err := receive.ReceiverReport(c.ssrc, "actorstream-client", c.recv.Report(now))
	if err != nil {
		return
	}
	switch {
	case rx.interleaved != nil && rx.rtcpChannel >= 0:
		c.send(rtsp.AppendInterleaved(nil, uint8(rx.rtcpChannel), b))
	case rx.rtcpDest.IsValid():
		_, _ = c.rtcpConn.WriteToUDPAddrPort(b, rx.rtcpDest)
	}
}
