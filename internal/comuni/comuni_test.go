package comuni

import (
	"strings"
	"testing"
)

func TestSeedComuni(t *testing.T) {
	reg, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := reg.Len(), 7904; got != want {
		t.Fatalf("Len() = %d, want %d", got, want)
	}
	small := 0
	for _, c := range reg.All() {
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

func TestOfficialNamesAndHigherBodies(t *testing.T) {
	reg, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		istat, it, de, kind, body, bodyDE string
	}{
		{"037034", "Loiano", "Loiano", BodyCittaMetropolitana, "Città metropolitana di Bologna", "Città metropolitana di Bologna"},
		{"090007", "Banari", "Banari", BodyProvincia, "Provincia di Sassari", "Provincia di Sassari"},
		{"049020", "Suvereto", "Suvereto", BodyProvincia, "Provincia di Livorno", "Provincia di Livorno"},
		{"021031", "Fiè allo Sciliar/Völs am Schlern", "Völs am Schlern/Fiè allo Sciliar", BodyProvinciaAutonoma, "Provincia autonoma di Bolzano – Alto Adige", "Autonome Provinz Bozen – Südtirol"},
		{"022250", "San Giovanni di Fassa-Sèn Jan", "Sèn Jan-San Giovanni di Fassa", BodyProvinciaAutonoma, "Provincia autonoma di Trento", "Provincia autonoma di Trento"},
		{"031019", "San Floriano del Collio-Števerjan", "Števerjan-San Floriano del Collio", BodyNone, "", ""},
		{"007003", "Aosta", "Aosta", BodyNone, "", ""},
		{"066001", "Acciano", "Acciano", BodyProvincia, "Provincia dell'Aquila", "Provincia dell'Aquila"},
		{"084001", "Agrigento", "Agrigento", BodyLiberoConsorzio, "Libero consorzio comunale di Agrigento", "Libero consorzio comunale di Agrigento"},
	} {
		c, ok := reg.Lookup(tc.istat)
		if !ok {
			t.Fatalf("Lookup(%s) not found", tc.istat)
		}
		if got := c.DisplayName("it"); got != tc.it {
			t.Errorf("%s: DisplayName(it) = %q, want %q", tc.istat, got, tc.it)
		}
		if got := c.DisplayName("de"); got != tc.de {
			t.Errorf("%s: DisplayName(de) = %q, want %q", tc.istat, got, tc.de)
		}
		if c.Body != tc.kind || c.HigherBody("it") != tc.body || c.HigherBody("de") != tc.bodyDE {
			t.Errorf("%s: body %q %q %q, want %q %q %q", tc.istat, c.Body, c.HigherBody("it"), c.HigherBody("de"), tc.kind, tc.body, tc.bodyDE)
		}
	}
	// Every comune with a name in another language carries it.
	two := 0
	for _, c := range reg.All() {
		if c.OtherName != "" {
			two++
		}
	}
	if two < 120 {
		t.Errorf("%d comuni with two official names, want about 124", two)
	}
}

// TestJoinRefusesAnotherEdition: the ISTAT list and the registry are the same
// edition; a list naming a comune the registry lacks, or missing one, stops
// the join.
func TestJoinRefusesAnotherEdition(t *testing.T) {
	head := "codice_istat;codice_uts;denominazione_uts;denominazione_italiana_e_straniera;denominazione_in_italiano;denominazione_altra_lingua\n"
	reg := func() *Registry {
		r, err := Parse(strings.NewReader(`[{"nome":"Loiano","codice":"037034","sigla":"BO","codiceCatastale":"E655","popolazione":4434}]`))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if err := joinISTAT(reg(), strings.NewReader(head+"037034;237;Bologna;Loiano;Loiano;\n")); err != nil {
		t.Fatalf("the same edition: %v", err)
	}
	for _, body := range []string{
		head + "037034;237;Bologna;Loiano;Loiano;\n999999;237;Bologna;Nessuno;Nessuno;\n",
		head,
		"istat;uts\n",
	} {
		if err := joinISTAT(reg(), strings.NewReader(body)); err == nil {
			t.Errorf("join accepted %q", body)
		}
	}
}
