package logbridge

import (
	"context"
	"log/slog"
)

// Demote returns a handler passing records to h, those whose message is
// one of msgs lowered to debug level: a library's routine notes that its
// authors log at info but that mean nothing to the program's users.
func Demote(h slog.Handler, msgs ...string) slog.Handler {
	set := make(map[string]bool, len(msgs))
	for _, m := range msgs {
		set[m] = true
	}
	return &demoted{h: h, msgs: set}
}

type demoted struct {
	h    slog.Handler
	msgs map[string]bool
}

// Enabled says yes to levels h takes and to a demoted record's own level,
// since which record it is is known only in Handle.
func (d *demoted) Enabled(ctx context.Context, l slog.Level) bool { return d.h.Enabled(ctx, l) }

func (d *demoted) Handle(ctx context.Context, r slog.Record) error {
	if d.msgs[r.Message] && r.Level > slog.LevelDebug {
		if !d.h.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		r = r.Clone()
		r.Level = slog.LevelDebug
	}
	return d.h.Handle(ctx, r)
}

func (d *demoted) WithAttrs(as []slog.Attr) slog.Handler {
	return &demoted{h: d.h.WithAttrs(as), msgs: d.msgs}
}

func (d *demoted) WithGroup(name string) slog.Handler {
	return &demoted{h: d.h.WithGroup(name), msgs: d.msgs}
}
