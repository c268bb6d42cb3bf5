package docs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"faldone/internal/faldone"
	"faldone/internal/sqlite"
	"faldone/internal/tmpl/tmpltest"
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

// slotArchive reports how many render slots are held while it appends.
type slotArchive struct {
	faldone.Archive
	local bool
	held  int
}

func (a *slotArchive) Local() bool { return a.local }

func (a *slotArchive) Append(ctx context.Context, rec *faldone.Record, pdf []byte) error {
	a.held = len(renderSlots)
	return a.Archive.Append(ctx, rec, pdf)
}

// A seal that asks no server runs in the render's slot, and so does an
// append to an archive on this machine; a seal that asks a time-stamp
// authority, or an append to a database elsewhere, does not hold a slot
// while it waits; the slot is given back however the request ends.
func TestRenderSlotAndSeal(t *testing.T) {
	set := tmpltest.Set(t)
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
	if !a.Local() {
		t.Fatal("an archive of files is not local")
	}
	for _, c := range []struct {
		sealer             slotSealer
		local, batched     bool
		wantSeal, wantAppd int
	}{
		{slotSealer{local: true}, true, false, 1, 1},
		{slotSealer{local: true}, false, false, 1, 0},
		{slotSealer{local: false}, true, false, 0, 0},
		{slotSealer{local: true, fail: true}, true, false, 1, 0},
		{slotSealer{local: true}, true, true, 1, 0},
	} {
		ctx := context.Background()
		if c.batched {
			ctx = Batched(ctx)
		}
		arch := &slotArchive{Archive: a, local: c.local}
		svc := &Service{Renderer: &Renderer{Templates: set, Version: "test"}, Sealer: &c.sealer, Archive: arch}
		_, err := svc.Create(ctx, faldone.KindAdesione, in, "it", "test")
		if (err != nil) != c.sealer.fail {
			t.Fatalf("%+v: %v", c.sealer, err)
		}
		if c.sealer.held != c.wantSeal || arch.held != c.wantAppd {
			t.Errorf("%+v, local archive %v, batched %v: %d slots held while sealing, %d while appending; want %d and %d",
				c.sealer, c.local, c.batched, c.sealer.held, arch.held, c.wantSeal, c.wantAppd)
		}
		if n := len(renderSlots); n != 0 {
			t.Fatalf("%+v: %d slots held after the request", c.sealer, n)
		}
	}
}
