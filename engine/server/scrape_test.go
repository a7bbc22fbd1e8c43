package server

import (
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"

	"github.com/actorstream/actorstream/internal/metrics"
)

// scrapeValue is series' value as m's handler serves it (the whole line's
// name and labels, e.g. `actorstream_x_total{reason="y"}`), or -1 when
// it serves no such series.
func scrapeValue(t *testing.T, m *metrics.Metrics, series string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` ([0-9.e+-]+)$`)
	v := re.FindStringSubmatch(rec.Body.String())
	if v == nil {
		return -1
	}
	f, err := strconv.ParseFloat(v[1], 64)
	if err != nil {
		t.Fatalf("%s: %v", series, err)
	}
	return f
}
