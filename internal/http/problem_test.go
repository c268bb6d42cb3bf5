package http

import (
	"strings"
	"testing"
)

// TestEveryProblemHasATitle checks that every code the API answers with
// has a title in every language, not the raw message id.
func TestEveryProblemHasATitle(t *testing.T) {
	s := testServer(t)
	for code := range statusOf {
		for _, l := range []string{"it", "en", "de"} {
			title := s.cfg.Templates.Localize(l, "error."+code, nil)
			if title == "" || strings.HasPrefix(title, "error.") {
				t.Errorf("%s in %s: title %q", code, l, title)
			}
		}
	}
	for _, id := range []string{"error.framing", "error.body_unreadable", "error.database_unavailable", "error.storage_full",
		"error.clock_backwards", "error.clock_outside_certificate", "error.clock_skew_tsa", "error.signed_not_awaiting"} {
		for _, l := range []string{"it", "en", "de"} {
			if m := s.cfg.Templates.Localize(l, id, map[string]any{}); strings.HasPrefix(m, "error.") {
				t.Errorf("%s in %s: %q", id, l, m)
			}
		}
	}
}
