package fonts

import (
	"bytes"
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite coverage.bin from the fonts")

// coverage.bin holds what the fonts draw: worked out again from them, it
// is the same (after a change of fonts, go test ./fonts -update).
func TestCoverageTable(t *testing.T) {
	main, any := computeCoverage()
	want := encodeCoverage(main, any)
	if *update {
		if err := os.WriteFile("coverage.bin", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(coverageBin, want) {
		t.Fatal("coverage.bin does not match the fonts: run go test ./fonts -update")
	}
	m, a, ok := decodeCoverage(coverageBin)
	if !ok || *m != *main || *a != *any {
		t.Fatal("coverage.bin does not decode to the fonts' coverage")
	}
	if _, _, ok := decodeCoverage(coverageBin[1:]); ok {
		t.Fatal("a short table decodes")
	}
	if !Printable('é') || !Printable('ß') || Printable(0x07) || !Main().Has('a') {
		t.Fatal("Printable or Main answer wrongly")
	}
}
