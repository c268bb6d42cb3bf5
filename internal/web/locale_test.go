package web

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestEveryStringFromLocales fails when a page template holds text of its
// own: every word people read comes from the locale files (in it, en and
// de), except the product's name and the names of standards.
func TestEveryStringFromLocales(t *testing.T) {
	files, err := filepath.Glob("templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("templates: %v", err)
	}
	allowed := map[string]bool{"faldone": true, "SHA-256": true}
	actions := regexp.MustCompile(`(?s){{.*?}}`)
	tags := regexp.MustCompile(`(?s)<[^>]*>`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := tags.ReplaceAllString(actions.ReplaceAllString(string(b), " "), " ")
		for _, w := range strings.Fields(text) {
			w = strings.Trim(w, "·:()")
			if w != "" && !allowed[w] {
				t.Errorf("%s: text %q is not from the locale files", f, w)
			}
		}
		// Attributes people read (labels, titles, alternatives) too.
		for _, m := range regexp.MustCompile(`(?:aria-label|title|alt|placeholder)="([^"{]+)"`).FindAllStringSubmatch(string(b), -1) {
			t.Errorf("%s: attribute text %q is not from the locale files", f, m[1])
		}
	}
	c, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"it", "en", "de"} {
		if len(c.texts[l]) == 0 {
			t.Errorf("no texts in %s", l)
		}
	}
}
