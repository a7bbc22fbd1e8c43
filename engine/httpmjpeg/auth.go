package httpmjpeg

import (
	"errors"
	"net/http"

	"github.com/actorstream/actorstream/internal/auth"
)

// authenticate checks r against the server's users as the RTSP side does
// (path is the media it asks for, "" for the index page): it returns the
// user name, or answers 401 with the Digest (and where allowed Basic)
// challenges, or 403, and returns false. Without users, everyone may
// watch.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request, path string) (string, bool) {
	a := h.scfg.Auth
	if a == nil {
		return "", true
	}
	// The Digest uri is the request-URI as sent (RFC 7616 §3.4).
	user, err := a.Check(r.Method, r.RequestURI, r.Header.Get, r.TLS != nil, path)
	var challenge *auth.Challenge
	var forbidden *auth.Forbidden
	switch {
	case errors.As(err, &challenge):
		h.scfg.Metrics.AuthFailure(challenge.Reason)
		h.log.Debug("authentication required", "peer", r.RemoteAddr, "path", path, "reason", challenge.Reason)
		for _, v := range challenge.Headers() { // their order matters to ffmpeg
			w.Header().Add("WWW-Authenticate", v)
		}
		http.Error(w, "authentication required", http.StatusUnauthorized)
		return "", false
	case errors.As(err, &forbidden):
		h.scfg.Metrics.AuthFailure("forbidden")
		h.log.Info("access refused", "user", forbidden.User, "path", forbidden.Path)
		http.Error(w, "forbidden", http.StatusForbidden)
		return "", false
	case err != nil:
		h.log.Warn("authentication failed", "error", err)
		http.Error(w, "authentication failed", http.StatusInternalServerError)
		return "", false
	}
	return user, true
}

// allowed reports whether user may watch path (all may without users).
func (h *Handler) allowed(user, path string) bool {
	a := h.scfg.Auth
	return a == nil || a.Users.Allowed(user, path)
}
