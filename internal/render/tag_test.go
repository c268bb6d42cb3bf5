package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/phpdave11/gofpdf"

	"faldone/internal/pdftest"
)

// TestUnmarkedIsSeen: the content-stream check finds the unmarked text and
// rules of an untagged page, and none once the same page is tagged.
func TestUnmarkedIsSeen(t *testing.T) {
	draw := func(tagged bool) []byte {
		pdf := gofpdf.New("P", "mm", "A4", "")
		pdf.AddPage()
		pdf.SetFont("Helvetica", "", 10)
		if tagged {
			pdf.SetStructTree(func(*gofpdf.StructWriter) int { return 0 })
			pdf.BeginMarked("P")
		}
		pdf.Text(20, 20, "uno")
		pdf.Text(40, 20, "due")
		if tagged {
			pdf.EndMarked()
		}
		pdf.Line(20, 30, 100, 30)
		var b bytes.Buffer
		if err := pdf.Output(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	problems, _ := pdftest.Unmarked(t, draw(false))
	if len(problems) != 3 {
		t.Errorf("untagged page: problems %q, want the two words and the rule", problems)
	}
	problems, mcids := pdftest.Unmarked(t, draw(true))
	if len(problems) != 0 || mcids != 1 {
		t.Errorf("tagged page: problems %q, %d MCIDs", problems, mcids)
	}
	// The two words drawn apart read as two words.
	if text := pdftest.RawText(t, draw(true)); !strings.Contains(text, "uno due") {
		t.Errorf("tagged text %q", text)
	}
}
