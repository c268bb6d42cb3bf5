package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"faldone/internal/faldone"
)

// TestCLIMessages: the locale files load, hold the same ids in every
// language with the same fmt verbs, and every id the code names exists.
func TestCLIMessages(t *testing.T) {
	if _, err := cliMessages(); err != nil {
		t.Fatal(err)
	}
	verbs := regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z]`)
	files, _ := filepath.Glob("*.go")
	used := regexp.MustCompile(`(?:usagef|usageWrap|failWrap|findingsf|msg\([a-zA-Z()]+,)\s*\(?"([a-z_]+)"|bad\("([a-z_]+)"`)
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range used.FindAllStringSubmatch(string(b), -1) {
			id := m[1]
			if m[2] != "" {
				id = "setting." + m[2]
			}
			n++
			en := msg("en", id)
			if en == id {
				t.Errorf("%s: message %q is not in locales/active.en.toml", f, id)
				continue
			}
			for _, l := range []string{"it", "de"} {
				if got, want := verbs.FindAllString(msg(l, id), -1), verbs.FindAllString(en, -1); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s: message %q has verbs %v in %s, %v in en", f, id, got, l, want)
				}
			}
		}
	}
	if n < 40 {
		t.Errorf("only %d message uses found: the pattern lost them", n)
	}
}

// TestExplain says errors of each kind the CLI meets in the user's
// language, from the outermost words to the cause.
func TestExplain(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for _, tc := range []struct {
		err      error
		it, de   string
		notShown string
	}{
		{usageWrap("read", &fs.PathError{Op: "open", Path: "a.pdf", Err: syscall.ENOENT}, "a.pdf"),
			"impossibile leggere a.pdf: file a.pdf: non esiste", "a.pdf kann nicht gelesen werden: Datei a.pdf: existiert nicht", "no such file"},
		{&url.Error{Op: "Get", URL: "http://127.0.0.1:1/healthz", Err: fmt.Errorf("wrapped: %w", refused)},
			"richiesta a http://127.0.0.1:1/healthz: 127.0.0.1:1: connessione rifiutata (il servizio è avviato?)",
			"Anfrage an http://127.0.0.1:1/healthz: 127.0.0.1:1: Verbindung abgelehnt (läuft der Dienst?)", "dial tcp"},
		{usageWrap("bad_flag", errors.New("flag provided but not defined: -x")),
			"opzione non valida: opzione sconosciuta --x", "ungültige Option: unbekannte Option --x", "provided"},
		{usageWrap("bad_flag", errors.New(`invalid value "abc" for flag -body-limit: parse error`)),
			`opzione non valida: valore "abc" non valido per l'opzione --body-limit`, `ungültige Option: ungültiger Wert "abc" für die Option --body-limit`, "parse error"},
		{failWrap("store", &faldone.Error{Code: faldone.EUNAVAILABLE, Message: "cannot connect", Err: refused}, "postgres://h/db"),
			"l'archivio postgres://h/db: Servizio temporaneamente non disponibile: riprovare più tardi.: 127.0.0.1:1: connessione rifiutata (il servizio è avviato?)",
			"das Archiv postgres://h/db: Dienst vorübergehend nicht verfügbar: bitte später erneut versuchen.: 127.0.0.1:1: Verbindung abgelehnt (läuft der Dienst?)", "cannot connect"},
		{usageWrap("settings", settingErrors{bad("between", "body-limit", 1024, 268435456), bad("prod_tsa")}),
			"controllare le impostazioni: body-limit deve essere tra 1024 e 268435456; production richiede un'autorità di marcatura temporale: impostare --tsa-url (FALDONE_TSA_URL)",
			"Einstellungen prüfen: body-limit muss zwischen 1024 und 268435456 liegen; production braucht einen Zeitstempeldienst: --tsa-url (FALDONE_TSA_URL) setzen", "invalid settings"},
		{findingsf("not_valid", "x.pdf"), "x.pdf non è valido", "x.pdf ist nicht gültig", "audit found"},
		{errors.New("some library said something"), "errore imprevisto (FALDONE_DEBUG=1 mostra il dettaglio tecnico, in inglese)",
			"unerwarteter Fehler (FALDONE_DEBUG=1 zeigt das technische Detail, auf Englisch)", "library"},
		{failWrap("data_dir", errors.New("some library said something")), "la cartella dei dati", "das Datenverzeichnis", "library"},
		{errors.Join(errors.New("first"), &fs.PathError{Op: "open", Path: "k", Err: syscall.EACCES}), "file k: permesso negato", "Datei k: Zugriff verweigert", "first"},
	} {
		if got := explain("it", tc.err); got != tc.it {
			t.Errorf("%v in it:\n got %s\nwant %s", tc.err, got, tc.it)
		}
		if got := explain("de", tc.err); got != tc.de {
			t.Errorf("%v in de:\n got %s\nwant %s", tc.err, got, tc.de)
		}
		if en := explain("en", tc.err); strings.Contains(en, tc.notShown) {
			t.Errorf("%v in en shows the library's text: %s", tc.err, en)
		}
	}
	if !errors.Is(findingsf("not_valid", "x"), errFindings) || exitStatus(findingsf("not_valid", "x")) != exitFindings {
		t.Error("a negative verdict is not exit status 1")
	}
}
