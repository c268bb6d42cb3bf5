// Package conservazione writes a comune's dossier as a conservation package
// (pacchetto di versamento) and verifies one offline.
//
// The package is a ZIP file:
//
//	PIndex.xml                          the index, UNI 11386:2020 (SInCRO 2.0)
//	LEGGIMI.txt                         what the package holds and how to check it
//	registro/checkpoint.txt             the signed checkpoint of the audit log
//	registro/chiave-pubblica.txt        the log's public key (note verifier key)
//	documenti/NN-<kind>-<id>/vN.pdf            every version of every document
//	documenti/NN-<kind>-<id>/vN.metadati.json  its AgID metadata (Allegato 5)
//	documenti/NN-<kind>-<id>/vN.scheda.json    its archive record: the leaf's bytes
//	documenti/NN-<kind>-<id>/vN.prova.json     its inclusion proof in the checkpoint
//
// Every file but the index is listed in the index with its SHA-256. Every
// proof is against the one checkpoint of the package, so an auditor checks
// the checkpoint's signature once and then each version with hashes only.
package conservazione

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"faldone/internal/audit"
	"faldone/internal/faldone"
	"faldone/internal/ledger"
)

// Paths of the package's fixed files.
const (
	IndexPath      = "PIndex.xml"
	ReadmePath     = "LEGGIMI.txt"
	CheckpointPath = "registro/checkpoint.txt"
	PublicKeyPath  = "registro/chiave-pubblica.txt"
)

// Source is what a package is made from.
type Source struct {
	Archive faldone.Archive // Required.
	Log     *ledger.Ledger  // Required: the proofs and the checkpoint.
	// Metadata returns the Allegato 5 metadata of a version. Required.
	Metadata func(*faldone.Record) any
	// Version is the producing software's version. Optional.
	Version string
	// Now is the time of the index. If nil, time.Now is used.
	Now func() time.Time
}

// Proof is the inclusion proof of one version, as the package holds it.
type Proof struct {
	ID        string   `json:"id"`
	Version   int      `json:"version"`
	LeafIndex uint64   `json:"leaf_index"`
	LeafHash  string   `json:"leaf_hash"` // hex SHA-256(0x00 || scheda)
	TreeSize  uint64   `json:"tree_size"`
	Hashes    []string `json:"proof"` // hex, leaf to root
}

// Summary describes a written package.
type Summary struct {
	Comune    string `json:"comune"`
	Documents int    `json:"documents"`
	Versions  int    `json:"versions"`
	Files     int    `json:"files"`
	TreeSize  uint64 `json:"tree_size"`
	Root      string `json:"root"`
	Bytes     int64  `json:"bytes"`
}

// workflow orders the kinds in the package.
var workflow = map[faldone.Kind]int{faldone.KindAdesione: 1, faldone.KindAssessment: 2, faldone.KindPiano: 3, faldone.KindApprovazione: 4, faldone.KindChiusura: 5}

// Write writes the conservation package of the dossier of comune (ISTAT
// code istat, official name name) to w. It signs a checkpoint covering the
// whole log first, so that every version is proved against it. A comune
// without documents gives ENOTFOUND.
func Write(ctx context.Context, w io.Writer, src Source, istat, name string) (*Summary, error) {
	recs, err := src.Archive.Dossier(ctx, istat)
	if err != nil {
		return nil, fmt.Errorf("package %s: %w", istat, err)
	}
	if len(recs) == 0 {
		return nil, faldone.Errorf(faldone.ENOTFOUND, "the comune %s has no documents", istat)
	}
	sc, err := src.Log.Checkpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("package %s: %w", istat, err)
	}
	size := sc.Checkpoint.Size
	first := map[string]int64{}
	for _, r := range recs {
		if _, ok := first[r.ID]; !ok {
			first[r.ID] = r.Leaf
		}
	}
	slices.SortStableFunc(recs, func(a, b *faldone.Record) int {
		return cmp.Or(cmp.Compare(order(a.Kind), order(b.Kind)), cmp.Compare(first[a.ID], first[b.ID]), cmp.Compare(a.Version, b.Version))
	})
	now := time.Now
	if src.Now != nil {
		now = src.Now
	}
	at := now().UTC()
	cw := &counter{w: w}
	zw := zip.NewWriter(cw)
	var groups []FileGroup
	put := func(path string, b []byte, mod time.Time) (Hash, error) {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: path, Method: zip.Deflate, Modified: mod})
		if err != nil {
			return Hash{}, err
		}
		if _, err := f.Write(b); err != nil {
			return Hash{}, err
		}
		sum := sha256.Sum256(b)
		return Hash{Function: "SHA-256", Value: base64.StdEncoding.EncodeToString(sum[:])}, nil
	}
	tree := audit.NewTree(src.Log.Store())
	docs := map[string]bool{}
	for _, r := range recs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if r.Leaf < 0 || uint64(r.Leaf) >= size {
			return nil, fmt.Errorf("package %s: %s v%d (leaf %d) is not in the checkpoint of %d leaves", istat, r.ID, r.Version, r.Leaf, size)
		}
		docs[r.ID] = true
		dir := fmt.Sprintf("documenti/%02d-%s-%s/v%d", order(r.Kind), r.Kind, r.ID, r.Version)
		pdf, err := src.Archive.PDF(ctx, r.SHA256)
		if err != nil {
			return nil, fmt.Errorf("package %s: pdf of %s v%d: %w", istat, r.ID, r.Version, err)
		}
		meta, err := json.MarshalIndent(src.Metadata(r), "", "  ")
		if err != nil {
			return nil, fmt.Errorf("package %s: metadata of %s v%d: %w", istat, r.ID, r.Version, err)
		}
		scheda := faldone.CanonicalRecord(r)
		hashes, err := tree.InclusionProof(ctx, uint64(r.Leaf), size)
		if err != nil {
			return nil, fmt.Errorf("package %s: proof of %s v%d: %w", istat, r.ID, r.Version, err)
		}
		p := Proof{ID: r.ID, Version: r.Version, LeafIndex: uint64(r.Leaf), LeafHash: hex.EncodeToString(audit.LeafHash(scheda)), TreeSize: size}
		for _, h := range hashes {
			p.Hashes = append(p.Hashes, hex.EncodeToString(h))
		}
		proof, _ := json.MarshalIndent(p, "", "  ")
		id := r.ID + "-v" + strconv.Itoa(r.Version)
		pf := File{Format: "application/pdf", Encoding: "binary", Extension: "pdf", ID: ID{Scheme: "local", Value: id}, Path: dir + ".pdf",
			MoreInfo: &MoreInfo{XMLScheme: "Linee guida AgID sui documenti informatici (2021), Allegato 5; registro di audit RFC 6962"}}
		if pf.Hash, err = put(pf.Path, pdf, r.Created); err != nil {
			return nil, err
		}
		for _, m := range []struct {
			suffix, what string
			b            []byte
		}{{".metadati.json", "metadati", meta}, {".scheda.json", "scheda", scheda}, {".prova.json", "prova", proof}} {
			h, err := put(dir+m.suffix, m.b, r.Created)
			if err != nil {
				return nil, err
			}
			pf.MoreInfo.ExternalMetadata = append(pf.MoreInfo.ExternalMetadata, ExternalMetadata{Format: "application/json", Encoding: "binary", Extension: "json",
				ID: ID{Scheme: "local", Value: id + "-" + m.what}, Path: dir + m.suffix, Hash: h})
		}
		groups = append(groups, FileGroup{Label: fmt.Sprintf("%s %s v%d – %s", r.Kind, r.ID, r.Version, r.Oggetto), Files: []File{pf}})
	}
	var reg []File
	for _, f := range []struct {
		path string
		b    []byte
	}{{CheckpointPath, sc.Note}, {PublicKeyPath, []byte(src.Log.PublicKey() + "\n")}, {ReadmePath, readme(istat, name, len(docs), len(recs), size, sc.Checkpoint.Root)}} {
		h, err := put(f.path, f.b, at)
		if err != nil {
			return nil, err
		}
		reg = append(reg, File{Format: "text/plain", Encoding: "binary", Extension: "txt", ID: ID{Scheme: "local", Value: f.path}, Path: f.path, Hash: h})
	}
	groups = append(groups, FileGroup{Label: "Registro di audit e istruzioni", Files: reg})
	idx := PIndex{
		XMLNS: Namespace, Language: "it", SincroVersion: "2.0", URI: Namespace + "PIndex.xsd",
		SelfDescription: SelfDescription{
			ID:                  ID{Scheme: "local", Value: fmt.Sprintf("PdV-FAST-%s-%s", istat, at.Format("20060102T150405Z"))},
			CreatingApplication: CreatingApplication{Name: "faldone", Version: src.Version, Producer: "faldone"},
		},
		PVolume: PVolume{ID: ID{Scheme: "local", Value: "FAST-" + istat}, Label: "Fascicolo FAST Piccoli Comuni – Comune di " + name,
			Description: fmt.Sprintf("Documenti del percorso FAST del Comune di %s (ISTAT %s): %d documenti, %d versioni, ciascuna con metadati (Allegato 5), scheda d'archivio e prova di inclusione nel registro di audit di %d voci.", name, istat, len(docs), len(recs), size)},
		FileGroups: groups,
		Process: Process{
			Submitter:          Agent{AgentType: "legal person", AgentName: AgentName{FormalName: "Formez PA – Task force FAST Piccoli Comuni"}},
			Holder:             Agent{AgentType: "legal person", HolderRole: "soggetto produttore", AgentID: "IPA-" + recs[0].IPA, AgentName: AgentName{FormalName: "Comune di " + name}},
			TimeReference:      TimeReference{TimeInfo: TimeInfo{Value: at.Format(time.RFC3339)}},
			LawsAndRegulations: "D.Lgs. 82/2005 (CAD) artt. 43-44; Linee guida AgID sulla formazione, gestione e conservazione dei documenti informatici (2021); UNI 11386:2020",
		},
	}
	x, err := xml.MarshalIndent(idx, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("package %s: index: %w", istat, err)
	}
	if _, err := put(IndexPath, append([]byte(xml.Header), x...), at); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("package %s: %w", istat, err)
	}
	return &Summary{Comune: istat, Documents: len(docs), Versions: len(recs), Files: 4*len(recs) + 4,
		TreeSize: size, Root: hex.EncodeToString(sc.Checkpoint.Root), Bytes: cw.n}, nil
}

// counter counts the bytes written through it.
type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func order(k faldone.Kind) int {
	if o, ok := workflow[k]; ok {
		return o
	}
	return 9
}

func readme(istat, name string, docs, versions int, size uint64, root []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `Pacchetto di versamento del fascicolo FAST Piccoli Comuni del Comune di %s (ISTAT %s)

Contiene %d documenti in %d versioni. Per ogni versione: il PDF sigillato
(vN.pdf), i metadati secondo l'Allegato 5 delle Linee guida AgID (vN.metadati.json),
la scheda d'archivio (vN.scheda.json) e la prova della sua inclusione nel registro
di audit (vN.prova.json). PIndex.xml è l'indice secondo UNI 11386:2020 (SInCRO), con
l'impronta SHA-256 (base64) di ogni altro file.

Verifica senza rete:
1. l'impronta di ogni file è quella dell'indice;
2. registro/checkpoint.txt è firmato dalla chiave del registro (registro/chiave-pubblica.txt,
   da confrontare con quella pubblicata dal servizio) e fissa la radice %s
   del registro di %d voci;
3. per ogni versione, SHA-256(0x00 || scheda) è la foglia indicata nella prova, e la
   prova (RFC 6962) porta dalla foglia alla radice del checkpoint;
4. l'impronta del PDF è quella della scheda e dei metadati.
Il comando "faldone dossier verify FILE.zip --log-key CHIAVE" esegue questi controlli.
`, name, istat, docs, versions, hex.EncodeToString(root), size)
	return b.Bytes()
}

// Report is the outcome of an offline verification. A package is valid
// only when Problems is empty.
type Report struct {
	Versions int      `json:"versions"`
	Files    int      `json:"files"`
	TreeSize uint64   `json:"tree_size"`
	Root     string   `json:"root"`
	Problems []string `json:"problems"`
}

// OK reports whether the package verified.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Verify checks a package offline against the audit log's public key vkey
// (a note verifier key; the copy inside the package is not trusted): the
// index lists every file with its right hash; the checkpoint is signed by
// vkey; every version's record hashes to its proof's leaf, the proof leads
// to the checkpoint's root, and the PDF, record and metadata agree on the
// PDF's SHA-256. Every failure is a problem in the report; an error is
// returned only for a file that is not a readable ZIP.
func Verify(r io.ReaderAt, size int64, vkey string) (*Report, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("verify package: %w", err)
	}
	rep := &Report{Problems: []string{}}
	bad := func(format string, a ...any) { rep.Problems = append(rep.Problems, fmt.Sprintf(format, a...)) }
	content := map[string][]byte{}
	for _, f := range zr.File {
		if _, dup := content[f.Name]; dup {
			bad("%s appears twice in the ZIP", f.Name)
			continue
		}
		if f.UncompressedSize64 > 1<<30 {
			bad("%s is larger than 1 GiB", f.Name)
			continue
		}
		rc, err := f.Open()
		if err != nil {
			bad("%s cannot be read: %v", f.Name, err)
			continue
		}
		b, err := io.ReadAll(io.LimitReader(rc, 1<<30+1))
		rc.Close()
		if err != nil {
			bad("%s cannot be read: %v", f.Name, err)
			continue
		}
		content[f.Name] = b
	}
	rep.Files = len(content)
	// 1. The index and the hashes.
	var idx rIndex
	if err := xml.Unmarshal(content[IndexPath], &idx); err != nil {
		bad("%s is not a SInCRO index: %v", IndexPath, err)
		return rep, nil
	}
	if idx.Version != "2.0" {
		bad("%s: sincroVersion %q, want 2.0", IndexPath, idx.Version)
	}
	listed := map[string]bool{IndexPath: true}
	check := func(path string, h rHash) {
		listed[path] = true
		b, ok := content[path]
		if !ok {
			bad("%s is in the index but not in the package", path)
			return
		}
		sum := sha256.Sum256(b)
		if h.Function != "SHA-256" || strings.TrimSpace(h.Value) != base64.StdEncoding.EncodeToString(sum[:]) {
			bad("%s: its SHA-256 is not the one in the index", path)
		}
	}
	for _, g := range idx.FileGroups {
		for _, f := range g.Files {
			check(f.Path, f.Hash)
			for _, m := range f.More {
				check(m.Path, m.Hash)
			}
		}
	}
	for name := range content {
		if !listed[name] {
			bad("%s is in the package but not in the index", name)
		}
	}
	// 2. The checkpoint.
	v, err := audit.NewVerifier(vkey)
	if err != nil {
		bad("the log key is not a note verifier key: %v", err)
		return rep, nil
	}
	cp, err := audit.Open(content[CheckpointPath], v)
	if err != nil {
		bad("%s is not signed by the log key: %v", CheckpointPath, err)
		return rep, nil
	}
	rep.TreeSize, rep.Root = cp.Size, hex.EncodeToString(cp.Root)
	// 3 and 4. Each version.
	var pdfs []string
	for name := range content {
		if strings.HasPrefix(name, "documenti/") && strings.HasSuffix(name, ".pdf") {
			pdfs = append(pdfs, name)
		}
	}
	slices.Sort(pdfs)
	for _, name := range pdfs {
		base := strings.TrimSuffix(name, ".pdf")
		rep.Versions++
		pdfSum := sha256.Sum256(content[name])
		pdfHex := hex.EncodeToString(pdfSum[:])
		scheda, ok := content[base+".scheda.json"]
		if !ok {
			bad("%s has no record", name)
			continue
		}
		var rec faldone.Record
		if err := json.Unmarshal(scheda, &rec); err != nil {
			bad("%s.scheda.json is not a record: %v", base, err)
			continue
		}
		if rec.SHA256 != pdfHex {
			bad("%s: the PDF's SHA-256 is %s, the record says %s", name, pdfHex, rec.SHA256)
		}
		var p Proof
		if err := json.Unmarshal(content[base+".prova.json"], &p); err != nil {
			bad("%s.prova.json is not a proof: %v", base, err)
			continue
		}
		leaf := audit.LeafHash(scheda)
		if hex.EncodeToString(leaf) != p.LeafHash {
			bad("%s: the record does not hash to the proof's leaf", base)
		}
		if p.TreeSize != cp.Size {
			bad("%s: the proof is for a log of %d leaves, the checkpoint has %d", base, p.TreeSize, cp.Size)
		}
		hashes := make([][]byte, len(p.Hashes))
		for i, h := range p.Hashes {
			hashes[i], _ = hex.DecodeString(h)
		}
		if err := audit.VerifyInclusion(leaf, p.LeafIndex, cp.Size, hashes, cp.Root); err != nil {
			bad("%s: the inclusion proof does not lead to the checkpoint's root: %v", base, err)
		}
		var meta struct {
			IdDoc struct {
				ImprontaCrittograficaDelDocumento struct{ Impronta, Algoritmo string }
			}
		}
		if err := json.Unmarshal(content[base+".metadati.json"], &meta); err != nil {
			bad("%s.metadati.json is not Allegato 5 metadata: %v", base, err)
		} else if im := meta.IdDoc.ImprontaCrittograficaDelDocumento; im.Impronta != pdfHex || im.Algoritmo != "SHA-256" {
			bad("%s: the metadata's Impronta is not the PDF's SHA-256", base)
		}
	}
	if rep.Versions == 0 {
		bad("the package holds no document")
	}
	return rep, nil
}
