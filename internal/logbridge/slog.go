// Package logbridge routes log/slog records into go-hclog, so libraries that
// log through *slog.Logger (protoactor-go does) share the program's single
// log format and level.
package logbridge

import (
	"context"
	"log/slog"

	"github.com/hashicorp/go-hclog"
)

// Handler is a slog.Handler writing to an hclog.Logger.
type Handler struct {
	log    hclog.Logger
	prefix string // dotted path of the open slog groups
}

// New returns a slog.Handler that logs to l.
func New(l hclog.Logger) *Handler { return &Handler{log: l} }

// NewLogger is slog.New(New(l)).
func NewLogger(l hclog.Logger) *slog.Logger { return slog.New(New(l)) }

// Level maps a slog level onto hclog's scale. slog has no Trace, hclog has
// no level between Info and Warn; each slog level goes to the nearest hclog
// level at or below it.
func Level(l slog.Level) hclog.Level {
	switch {
	case l < slog.LevelDebug:
		return hclog.Trace
	case l < slog.LevelInfo:
		return hclog.Debug
	case l < slog.LevelWarn:
		return hclog.Info
	case l < slog.LevelError:
		return hclog.Warn
	}
	return hclog.Error
}

// Enabled reports whether hclog would print a record of level l.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool {
	lvl := h.log.GetLevel()
	return lvl != hclog.Off && Level(l) >= lvl
}

// Handle writes r through hclog.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	args := make([]any, 0, 2*r.NumAttrs())
	r.Attrs(func(a slog.Attr) bool {
		args = appendAttr(args, h.prefix, a)
		return true
	})
	h.log.Log(Level(r.Level), r.Message, args...)
	return nil
}

// WithAttrs returns a handler whose records carry as.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	args := make([]any, 0, 2*len(as))
	for _, a := range as {
		args = appendAttr(args, h.prefix, a)
	}
	return &Handler{log: h.log.With(args...), prefix: h.prefix}
}

// WithGroup returns a handler that prefixes later keys with name.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &Handler{log: h.log, prefix: h.prefix + name + "."}
}

// appendAttr flattens groups into dotted keys, as hclog has no nesting.
func appendAttr(args []any, prefix string, a slog.Attr) []any {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range v.Group() {
			args = appendAttr(args, p, g)
		}
		return args
	}
	if a.Key == "" {
		return args
	}
	return append(args, prefix+a.Key, v.Any())
}
