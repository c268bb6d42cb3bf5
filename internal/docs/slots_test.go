package docs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"faldone/internal/comuni"
	"faldone/internal/faldone"
	"faldone/internal/sqlite"
	"faldone/internal/tmpl"
	"faldone/templates"
)

// slotSealer reports how many render slots are held while it seals.
type slotSealer struct {
	local bool
	fail  bool
	held  int
}

func (s *slotSealer) Local() bool { return s.local }

func (s *slotSealer) Seal(_ context.Context, pdf []byte, _ *faldone.Document) ([]byte, *faldone.SealFacts, error) {
	s.held = len(renderSlots)
	if s.fail {
		return nil, nil, errors.New("the token is gone")
	}
	return pdf, &faldone.SealFacts{}, nil
}

// A seal that asks no server runs in the render's slot; one that asks a
// time-stamp authority does not hold a slot while it waits; the slot is
// given back however the request ends.
func TestRenderSlotAndSeal(t *testing.T) {
	reg, err := comuni.Default()
	if err != nil {
		t.Fatal(err)
	}
	set, err := tmpl.LoadChecked(templates.FS, reg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	a, err := sqlite.Open(context.Background(), filepath.Join(dir, "faldone.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	in, err := os.ReadFile("../../samples/suvereto/adesione.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		sealer   slotSealer
		wantHeld int
	}{
		{slotSealer{local: true}, 1},
		{slotSealer{local: false}, 0},
		{slotSealer{local: true, fail: true}, 1},
	} {
		svc := &Service{Renderer: &Renderer{Templates: set, Version: "test"}, Sealer: &c.sealer, Archive: a}
		_, err := svc.Create(context.Background(), faldone.KindAdesione, in, "it", "test")
		if (err != nil) != c.sealer.fail {
			t.Fatalf("%+v: %v", c.sealer, err)
		}
		if c.sealer.held != c.wantHeld {
			t.Errorf("%+v: %d slots held while sealing, want %d", c.sealer, c.sealer.held, c.wantHeld)
		}
		if n := len(renderSlots); n != 0 {
			t.Fatalf("%+v: %d slots held after the request", c.sealer, n)
		}
	}
}
