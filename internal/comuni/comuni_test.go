package comuni

import "testing"

func TestSeedComuni(t *testing.T) {
	reg, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := reg.Len(), 7904; got != want {
		t.Fatalf("Len() = %d, want %d", got, want)
	}
	small := 0
	for _, c := range reg.all {
		if c.Small() {
			small++
		}
	}
	if got, want := small, 5490; got != want {
		t.Fatalf("small comuni = %d, want %d", got, want)
	}
	for _, tc := range []struct {
		istat, name, catastale, sigla string
		pop                           int
	}{
		{"090007", "Banari", "A606", "SS", 610},
		{"065027", "Casaletto Spartano", "B888", "SA", 1463},
		{"037034", "Loiano", "E655", "BO", 4434},
		{"102032", "San Calogero", "H785", "VV", 4460},
		{"049020", "Suvereto", "L019", "LI", 3142},
	} {
		c, ok := reg.Lookup(tc.istat)
		if !ok {
			t.Fatalf("Lookup(%s) not found", tc.istat)
		}
		if c.Name != tc.name || c.Catastale != tc.catastale || c.Sigla != tc.sigla || c.Population != tc.pop {
			t.Errorf("Lookup(%s) = %+v", tc.istat, c)
		}
	}
	if c, _ := reg.Lookup("037034"); c.IPA() != "c_e655" {
		t.Errorf("IPA() = %q", c.IPA())
	}
}

func TestSearch(t *testing.T) {
	reg, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		q, first string
	}{
		{"loiano", "Loiano"},
		{"037034", "Loiano"},
		{"forli", "Forlì"},
		{"SAN CALOG", "San Calogero"},
	} {
		got := reg.Search(tc.q, 5)
		if len(got) == 0 || got[0].Name != tc.first {
			t.Errorf("Search(%q) = %v, want first %q", tc.q, got, tc.first)
		}
	}
	if got := reg.Search("zzzzqq", 5); len(got) != 0 {
		t.Errorf("Search(nonsense) = %v", got)
	}
	if got := reg.Search("san", 3); len(got) != 3 {
		t.Errorf("Search limit: got %d", len(got))
	}
}
