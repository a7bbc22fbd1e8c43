// Package faults holds end-to-end fault-injection tests of the engine: a
// server streaming a looping generated clip, the client playing it over
// UDP, and between them either internal/impairproxy (loss, delay, jitter,
// reordering, duplication, outages, in userspace) or, with root, two
// network namespaces whose veth link drops packets in nftables.
//
// What every scenario checks: each frame the client outputs decodes with
// image/jpeg (a frame missing packets is dropped, never shown); the loss
// the client reports (display.Stats.Receiver.LossPercent) agrees with the
// loss really introduced; frames resume after an outage; both sides stop
// cleanly.
//
// How the loss is compared. The client counts, RFC 3550 style, expected =
// highest extended sequence number − first + 1 and lost = expected −
// received. To compare on exactly the same packets, a scenario ends by
// PAUSEing the stream and waiting longer than the largest delay the proxy
// adds, so that nothing is in flight; then the client's window is the
// expected packets ending at its highest sequence number, and the proxy,
// which remembers every sequence number it delivered, counts how many of
// that window it never sent (impairproxy.Stream.Undelivered). Packets held
// in the proxy at the end (a reordered one waiting for a successor that
// never comes) lie beyond the client's highest sequence number and so
// outside the window. Duplicates make the client's count lower than the
// truth (RFC 3550 counts them as received), which is why duplication is
// measured alone.
//
// There is no non-test code in this package.
package faults
