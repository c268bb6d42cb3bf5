package conservazione_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"faldone/internal/conservazione"
	"faldone/internal/docs"
	"faldone/internal/faldone"
	fhttp "faldone/internal/http"
	"faldone/internal/keys"
	"faldone/internal/ledger"
	"faldone/internal/pdftest"
	"faldone/internal/seal"
	"faldone/internal/sqlite"
	"faldone/internal/tmpl/tmpltest"
)

// dossier archives the whole FAST path of the Loiano sample - adesione,
// assessment, piano, approvazione, chiusura, each citing the one before and
// checked against the chain - sealed, plus the comune's signed copy of the
// adesione as its version 2, and returns the source of its package.
func dossier(t *testing.T) (conservazione.Source, *ledger.Ledger) { return dossierB(t) }

func dossierB(t testing.TB) (conservazione.Source, *ledger.Ledger) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	set := tmpltest.Set(t)
	set.Version = faldone.Version
	archive, err := sqlite.Open(ctx, filepath.Join(dir, "faldone.db"), filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { archive.Close() })
	key, _, err := keys.DevSeal(filepath.Join(dir, "keys"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { key.Close() })
	skey, _, err := ledger.LoadKey(filepath.Join(dir, "keys", "log.key"), true)
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.New(archive, skey, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc := &docs.Service{Renderer: &docs.Renderer{Templates: set, Version: faldone.Version}, Archive: archive,
		Sealer: &seal.Sealer{Key: key, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	ids := map[string]string{}
	cites := map[string]string{"piano": "assessment", "approvazione": "piano", "chiusura": "approvazione"}
	for _, kind := range set.Kinds() {
		b, err := os.ReadFile(filepath.Join("..", "..", "samples", "loiano", kind+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if c := cites[kind]; c != "" {
			m[c] = ids[c]
		}
		body, _ := json.Marshal(m)
		rec, err := svc.Create(ctx, faldone.Kind(kind), body, "it", "test")
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		ids[kind] = rec.ID
	}
	_, sealed, err := svc.PDF(ctx, ids["adesione"], 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.ReturnSigned(ctx, ids["adesione"], pdftest.Countersign(t, sealed, pdftest.NewPKI(t, "Comune di Loiano")), "it", "comune"); err != nil {
		t.Fatal(err)
	}
	return conservazione.Source{Archive: archive, Log: l, Version: faldone.Version,
		Metadata: func(r *faldone.Record) any { return fhttp.RecordMetadata(r, "Loiano") }}, l
}

// TestPackageVerifiesOffline writes the package of a dossier, re-reads it
// with nothing but the ZIP and the log's public key, and checks every hash
// of the index, the checkpoint's signature and every version's inclusion
// proof; then it breaks the package in each way an auditor must notice.
func TestPackageVerifiesOffline(t *testing.T) {
	src, l := dossier(t)
	var buf bytes.Buffer
	sum, err := conservazione.Write(context.Background(), &buf, src, "037034", "Loiano")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Documents != 5 || sum.Versions != 6 || sum.Files != 6*4+4 || sum.Bytes != int64(buf.Len()) {
		t.Fatalf("summary %+v (package of %d bytes)", sum, buf.Len())
	}
	pkg := buf.Bytes()
	rep, err := conservazione.Verify(bytes.NewReader(pkg), int64(len(pkg)), l.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Versions != 6 || rep.Files != sum.Files || rep.TreeSize != sum.TreeSize || rep.Root != sum.Root {
		t.Fatalf("report %+v, summary %+v", rep, sum)
	}
	independent(t, pkg)
	files := unzip(t, pkg)
	idx := string(files[conservazione.IndexPath])
	for _, want := range []string{`xmlns:sincro="http://www.uni.com/U3011/sincro-v2/"`, `sincro:sincroVersion="2.0"`, "<sincro:PIndex", "<sincro:FileGroup>",
		`sincro:hashFunction="SHA-256"`, "Comune di Loiano", "documenti/05-chiusura-", "documenti/01-adesione-"} {
		if !strings.Contains(idx, want) {
			t.Errorf("index lacks %q", want)
		}
	}
	var pdfName string
	for name := range files {
		if strings.HasPrefix(name, "documenti/04-approvazione-") && strings.HasSuffix(name, "v1.pdf") {
			pdfName = name
		}
	}
	base := strings.TrimSuffix(pdfName, ".pdf")
	otherKey, _, err := ledger.LoadKey(filepath.Join(t.TempDir(), "other.key"), true)
	if err != nil {
		t.Fatal(err)
	}
	otherPub, err := ledger.PublicKey(otherKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		edit   func(map[string][]byte)
		key    string
		expect string
	}{
		{"a PDF changed", func(f map[string][]byte) { f[pdfName] = append(f[pdfName], ' ') }, "", "SHA-256"},
		{"a PDF removed", func(f map[string][]byte) { delete(f, pdfName) }, "", "not in the package"},
		{"a file added", func(f map[string][]byte) { f["documenti/extra.pdf"] = []byte("%PDF-1.7") }, "", "not in the index"},
		{"a record changed and its hash fixed in the index", func(f map[string][]byte) {
			old := f[base+".scheda.json"]
			f[base+".scheda.json"] = bytes.Replace(old, []byte(`"actor":"test"`), []byte(`"actor":"else"`), 1)
			fixIndex(t, f, base+".scheda.json", old)
		}, "", "leaf"},
		{"a proof hash changed and its hash fixed in the index", func(f map[string][]byte) {
			old := f[base+".prova.json"]
			var p conservazione.Proof
			json.Unmarshal(old, &p)
			p.Hashes[0] = strings.Repeat("0", 64)
			f[base+".prova.json"], _ = json.Marshal(p)
			fixIndex(t, f, base+".prova.json", old)
		}, "", "inclusion proof"},
		{"another log's key", nil, otherPub, "not signed by the log key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := unzip(t, pkg)
			if tc.edit != nil {
				tc.edit(f)
			}
			key := l.PublicKey()
			if tc.key != "" {
				key = tc.key
			}
			z := rezip(t, f)
			rep, err := conservazione.Verify(bytes.NewReader(z), int64(len(z)), key)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() {
				t.Fatal("a broken package verified")
			}
			if !strings.Contains(strings.Join(rep.Problems, "\n"), tc.expect) {
				t.Errorf("problems %q lack %q", rep.Problems, tc.expect)
			}
		})
	}
}

// independent reads the package with tools that share no code with the
// service: Info-ZIP's unzip tests every entry's CRC, xmllint parses the
// index, and sha256sum hashes each file the index lists.
func independent(t *testing.T, pkg []byte) {
	t.Helper()
	for _, tool := range []string{"unzip", "xmllint", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (bash .ci/run installs it)", tool)
		}
	}
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "pacchetto.zip")
	if err := os.WriteFile(zipPath, pkg, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("unzip", "-tq", zipPath).CombinedOutput(); err != nil {
		t.Fatalf("unzip -t: %v\n%s", err, out)
	}
	x := filepath.Join(dir, "x")
	if out, err := exec.Command("unzip", "-q", zipPath, "-d", x).CombinedOutput(); err != nil {
		t.Fatalf("unzip: %v\n%s", err, out)
	}
	if out, err := exec.Command("xmllint", "--noout", filepath.Join(x, conservazione.IndexPath)).CombinedOutput(); err != nil {
		t.Fatalf("xmllint: %v\n%s", err, out)
	}
	// Every Path/Hash pair of the index, as xmllint reads them.
	paths, err := exec.Command("xmllint", "--xpath", "//*[local-name()='Path']/text()", filepath.Join(x, conservazione.IndexPath)).Output()
	if err != nil {
		t.Fatal(err)
	}
	hashes, err := exec.Command("xmllint", "--xpath", "//*[local-name()='Hash']/text()", filepath.Join(x, conservazione.IndexPath)).Output()
	if err != nil {
		t.Fatal(err)
	}
	ps, hs := strings.Fields(string(paths)), strings.Fields(string(hashes))
	if len(ps) != len(hs) || len(ps) < 20 {
		t.Fatalf("%d paths and %d hashes in the index", len(ps), len(hs))
	}
	for i, p := range ps {
		out, err := exec.Command("sha256sum", filepath.Join(x, p)).Output()
		if err != nil {
			t.Fatalf("sha256sum %s: %v", p, err)
		}
		sum, _ := hex.DecodeString(strings.Fields(string(out))[0])
		if base64.StdEncoding.EncodeToString(sum) != hs[i] {
			t.Errorf("%s: sha256sum gives %x, the index says %s", p, sum, hs[i])
		}
	}
}

func unzip(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return out
}

func rezip(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, b := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fixIndex rewrites the index's hash of path for its new content, as a
// forger would, so that only the deeper checks can catch the change.
func fixIndex(t *testing.T, files map[string][]byte, path string, old []byte) {
	t.Helper()
	files[conservazione.IndexPath] = bytes.Replace(files[conservazione.IndexPath], []byte(b64(old)), []byte(b64(files[path])), 1)
}
