package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/engine/client"
)

// publish sends o.publish to the server (client -publish FILE URL) until
// the file is over (never with -publish-loop), -duration, Ctrl-C or the
// server ends it; a refusal or a lost connection is the error it returns.
func publish(o options, log hclog.Logger) error {
	if o.dialect != "rfc" {
		return errors.New("-publish speaks RFC 2326 only: give an rtsp:// URL")
	}
	if o.transport == "auto" {
		o.transport = "" // UDP, or TCP for rtsps://
	}
	tlsConfig, err := clientTLS(o.caFile, o.insecure)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	pub, err := client.Publish(ctx, client.PublishConfig{
		URL: o.url, File: o.publish, FPS: o.publishFPS, Loop: o.publishLoop, Transport: o.transport, RTPPort: o.rtpPort,
		User: o.user, Password: password(o.password), TLS: tlsConfig, Log: log,
	})
	if err != nil {
		return err
	}
	var limit <-chan time.Time
	if o.duration > 0 {
		limit = time.After(o.duration)
	}
	select {
	case <-pub.Done():
	case <-ctx.Done():
		log.Info("interrupted; tearing down")
	case <-limit:
		log.Info("duration reached; tearing down", "duration", o.duration)
	}
	_ = pub.Close()
	st := pub.Stats()
	log.Info("publishing summary", "packets", st.Packets, "bytes", st.Octets, "receiver_reports", st.ReceiverReports,
		"loss_percent", fmt.Sprintf("%.2f", st.FractionLost*100), "jitter_ms", fmt.Sprintf("%.2f", float64(st.Jitter)/float64(time.Millisecond)))
	if o.stats {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(st)
	}
	return pub.Err()
}
