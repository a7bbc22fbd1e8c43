package client

import (
	"context"
	"errors"
	"net/netip"
	"sync"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/internal/rtsp"
	"github.com/actorstream/actorstream/pipeline"
)

// reception is the media side of one SETUP: its receiving pipeline and its
// RTCP receiver reports, and where the connection's reader puts
// interleaved packets. The player starts one per SETUP through its Receive
// hook; the next SETUP or Close stops it.
type reception struct {
	lab         bool
	interleaved chan *pipeline.Packet // TCP: what the reader feeds; nil for UDP
	rtcpChannel int                   // TCP: the interleaved RTCP channel, -1 for UDP
	rtcpDest    netip.AddrPort        // UDP: the server's RTCP port, when it gave one

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// receive starts the media side of a negotiated transport (the player's
// Receive hook, on the actor's goroutine: it only stops the previous
// pipeline and starts goroutines).
func (c *Client) receive(tr rtsp.Transport, lab bool, info actors.MediaInfo) {
	c.rxMu.Lock()
	defer c.rxMu.Unlock()
	c.stopLocked()
	// A new session: its sender's numbers start afresh (and its BYE is
	// still to come).
	c.recv.Reset()
	rx := &reception{lab: lab, rtcpChannel: -1}
	rc := &ReceiveContext{Interleaved: tr.Protocol == rtsp.ProtocolTCP, Lab: lab, Info: info, c: c, rx: rx}
	if rc.Interleaved {
		rx.interleaved = make(chan *pipeline.Packet, 256)
		rx.rtcpChannel = tr.Interleaved[1]
	} else if tr.ServerPort[1] > 0 {
		server, _ := c.serverAt()
		rx.rtcpDest = netip.AddrPortFrom(server, uint16(tr.ServerPort[1]))
	}
	p := c.cfg.Pipeline(rc)
	ctx, cancel := context.WithCancel(context.Background())
	rx.cancel = cancel
	rx.wg.Go(func() {
		if err := p.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			c.log.Error("receiving pipeline failed", "error", err)
			c.tell(&actors.StreamEnded{Reason: err.Error()})
		}
	})
	if !lab { // the lab's server has no RTCP
		rx.wg.Go(func() { c.reportLoop(ctx, rx) })
	}
	c.rx.Store(rx)
}

// stopReceiving stops the current reception, if any, and waits for it.
func (c *Client) stopReceiving() {
	c.rxMu.Lock()
	defer c.rxMu.Unlock()
	c.stopLocked()
}

func (c *Client) stopLocked() {
	rx := c.rx.Swap(nil)
	if rx == nil {
		return
	}
	rx.cancel()
	rx.wg.Wait()
}
