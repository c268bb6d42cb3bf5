package verify_test

import (
	"bytes"
	stdflate "compress/flate"
	"compress/zlib"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"faldone/internal/faldone"
	"faldone/internal/pades"
	"faldone/internal/verify"
)

// Bounds of one verification, whatever the input: FuzzVerify fails an
// input that takes longer or allocates more. The time is generous so that
// it cannot flake on a loaded machine (the seeds take at most tens of
// milliseconds), and ten times longer under the race detector.
const (
	fuzzMaxTime  = 2 * time.Second * raceSlowdown
	fuzzMaxAlloc = 128 << 20 // bytes allocated by one verification
)

// pdfOf builds a classic PDF of the given objects (bodies numbered from
// 1) with a correct cross-reference table and trailer.
func pdfOf(trailer string, objects ...string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	offs := make([]int, len(objects))
	for i, o := range objects {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, trailer, xref)
	return b.Bytes()
}

// flate returns a zlib stream of total bytes of zeros (a multiple of 1
// MiB), about a thousandth of that in size. Only 3 MiB are compressed:
// after a sync flush each further MiB of zeros compresses to the same
// bytes, which are repeated.
func flate(total int) []byte {
	const chunk = 1 << 20
	var raw bytes.Buffer
	w, _ := stdflate.NewWriter(&raw, stdflate.BestCompression)
	zero := make([]byte, chunk)
	var ends []int
	for range 3 {
		w.Write(zero)
		w.Flush()
		ends = append(ends, raw.Len())
	}
	rep := raw.Bytes()[ends[0]:ends[1]]
	if !bytes.Equal(rep, raw.Bytes()[ends[1]:ends[2]]) {
		panic("flate: the compressed chunks differ")
	}
	out := append([]byte{0x78, 0xda}, raw.Bytes()[:ends[0]]...)
	out = append(out, bytes.Repeat(rep, total/chunk-1)...)
	out = append(out, 0x03, 0x00) // an empty final block
	return binary.BigEndian.AppendUint32(out, uint32(total%65521)<<16|1)
}

// hostileSeeds returns inputs built to hurt a PDF reader, by name, plus
// variants of a sealed document.
func hostileSeeds(sealed []byte) map[string][]byte {
	catalog := "<< /Type /Catalog /Pages 2 0 R >>"
	pages := "<< /Type /Pages /Kids [] /Count 0 >>"
	seeds := map[string][]byte{
		"empty":      {},
		"garbage":    []byte("this is not a PDF, just words"),
		"header":     []byte("%PDF-1.7\n"),
		"json":       []byte(`{"pdf": "%PDF-1.7"}`),
		"binary":     bytes.Repeat([]byte{0, 0xff, 0x25, 0x50}, 4096),
		"minimal":    pdfOf("/Root 1 0 R", catalog, pages),
		"no root":    pdfOf("", catalog, pages),
		"deep array": []byte("%PDF-1.7\n1 0 obj " + strings.Repeat("[", 200000) + "\nendobj\ntrailer << /Root 1 0 R >>\nstartxref\n9\n%%EOF"),
		"deep dict":  []byte("%PDF-1.7\n1 0 obj " + strings.Repeat("<< /A ", 100000) + "\nendobj\nstartxref\n9\n%%EOF"),
		"self reference": pdfOf("/Root 1 0 R",
			"<< /Type /Catalog /Pages 2 0 R /AcroForm 1 0 R /Fields 1 0 R /Kids 1 0 R >>", "2 0 R"),
		"reference chain": pdfOf("/Root 1 0 R", "2 0 R", "3 0 R", "4 0 R", "5 0 R", "6 0 R", "7 0 R", "8 0 R", "9 0 R", "10 0 R", "1 0 R"),
		"kids loop": pdfOf("/Root 1 0 R",
			"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [3 0 R] >> >>", pages,
			"<< /T (a) /Kids [4 0 R] >>", "<< /T (b) /Kids [3 0 R 4 0 R] >>"),
		"wide field tree": pdfOf("/Root 1 0 R",
			"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields ["+strings.Repeat("3 0 R ", 50000)+"] >> >>", pages,
			"<< /T (x) /Kids ["+strings.Repeat("3 0 R ", 1000)+"] >>"),
		"huge length": pdfOf("/Root 1 0 R", catalog, pages,
			"<< /Length 999999999999 >>\nstream\nabc\nendstream"),
		"negative length": pdfOf("/Root 1 0 R", catalog, pages,
			"<< /Length -5 >>\nstream\nabc\nendstream"),
		"huge xref count":  []byte("%PDF-1.4\nxref\n0 999999999\ntrailer << /Root 1 0 R >>\nstartxref\n9\n%%EOF"),
		"prev to itself":   []byte("%PDF-1.4\nxref\n0 1\n0000000000 65535 f \ntrailer << /Root 1 0 R /Prev 9 >>\nstartxref\n9\n%%EOF"),
		"startxref beyond": []byte("%PDF-1.4\ntrailer << /Root 1 0 R >>\nstartxref\n999999999999\n%%EOF"),
		"huge xref stream": []byte("%PDF-1.5\n1 0 obj << /Type /XRef /W [1 8 8] /Size 99999999 /Length 3 >> stream\nabc\nendstream endobj\nstartxref\n9\n%%EOF"),
		"huge object stream": pdfOf("/Root 4 0 R", catalog, pages,
			"<< /Type /ObjStm /N 2147483647 /First 0 /Length 4 >>\nstream\n1 0 \nendstream"),
		"many revisions": bytes.Repeat(pdfOf("/Root 1 0 R", catalog, pages), 2000),
	}
	// Prev cycle: two cross-reference sections, each the other's /Prev.
	{
		base := pdfOf("/Root 1 0 R", catalog, pages)
		body := base[:bytes.LastIndex(base, []byte("xref"))]
		sectionA := len(body)
		a := fmt.Sprintf("xref\n0 3\n0000000000 65535 f \n%s%s", base[bytes.Index(base, []byte("0 3\n"))+len("0 3\n0000000000 65535 f \n"):bytes.LastIndex(base, []byte("trailer"))], "trailer\n<< /Size 3 /Root 1 0 R /Prev %010d >>\n")
		sectionB := sectionA + len(fmt.Sprintf(a, 0))
		cyc := append(bytes.Clone(body), fmt.Sprintf(a, sectionB)...)
		cyc = append(cyc, fmt.Sprintf("xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 3 /Root 1 0 R /Prev %010d >>\nstartxref\n%d\n%%%%EOF\n", sectionA, sectionB)...)
		seeds["prev cycle"] = cyc
	}
	// Compression bombs: a small FlateDecode stream that inflates to far
	// more than the decoding limit, as an object stream the reader must
	// open to find the catalog, and as the cross-reference stream.
	bomb := flate(1 << 30)
	seeds["flate bomb object stream"] = objStmBomb(bomb, "/FlateDecode", 0)
	seeds["flate bomb opened per field"] = objStmBomb(bomb, "/FlateDecode", 500)
	seeds["flate chain"] = objStmBomb(flate(1<<20), "[/FlateDecode /FlateDecode]", 0)
	seeds["flate bomb xref stream"] = []byte(fmt.Sprintf("%%PDF-1.5\n1 0 obj\n<< /Type /XRef /W [1 4 2] /Size 3 /Root 2 0 R /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 1 >> /Length %d >>\nstream\n%s\nendstream\nendobj\nstartxref\n9\n%%%%EOF\n", len(bomb), bomb))
	if sealed == nil {
		return seeds
	}
	seeds["sealed"] = sealed
	for _, n := range []int{10, len(sealed) / 3, len(sealed) / 2, len(sealed) - 300, len(sealed) - 10, len(sealed) - 1} {
		seeds[fmt.Sprintf("truncated at %d", n)] = sealed[:n]
	}
	flip := bytes.Clone(sealed)
	flip[len(flip)/4] ^= 0x20
	seeds["byte flipped"] = flip
	seeds["broken xref offsets"] = bytes.ReplaceAll(sealed, []byte(" 00000 n"), []byte(" 00000 x"))
	seeds["startxref to garbage"] = append(bytes.Clone(sealed), []byte("startxref\n5\n%%EOF\n")...)
	seeds["byte range beyond"] = sameLength(sealed, `/ByteRange \[0 \d+ (\d+) (\d+)\] *`, "/ByteRange [0 99999999999999 $1 $2]")
	seeds["byte range negative"] = sameLength(sealed, `/ByteRange \[0 (\d+) (\d+) (\d+)\] *`, "/ByteRange [0 -$1 $2 -$3]")
	seeds["duplicate fields"] = sameLength(sealed, `/Fields \[(\d+ 0 R)\] /SigFlags 3 >>`, "/Fields [$1 $1 3 0 R]>>")
	seeds["many signatures"] = manySignatures(sealed, 400)
	seeds["flate bomb after the seal"] = bombAfterSeal(sealed, bomb, 200)
	seeds["62 revisions"] = manyRevisions(sealed, 60)
	seeds["70 revisions"] = manyRevisions(sealed, 68)
	return seeds
}

// manyRevisions appends n updates to sealed, each writing the catalog
// again: the analysis reads every revision on its own (at most 64).
func manyRevisions(sealed []byte, n int) []byte {
	root := regexp.MustCompile(`/Root (\d+) 0 R`).FindAllSubmatch(sealed, -1)
	if root == nil {
		return sealed
	}
	num := string(root[len(root)-1][1])
	cat := regexp.MustCompile(`(?s)\n`+num+` 0 obj\n(.*?)\nendobj`).FindAllSubmatch(sealed, -1)
	if cat == nil {
		return sealed
	}
	body := cat[len(cat)-1][1]
	b := bytes.NewBuffer(bytes.Clone(sealed))
	prev := string(bytes.Fields(sealed[bytes.LastIndex(sealed, []byte("startxref"))+len("startxref"):])[0])
	for range n {
		off := b.Len()
		fmt.Fprintf(b, "%s 0 obj\n%s\nendobj\n", num, body)
		x := b.Len()
		fmt.Fprintf(b, "xref\n%s 1\n%010d 00000 n \ntrailer\n<< /Size 999 /Root %s 0 R /Prev %s >>\nstartxref\n%d\n%%%%EOF\n", num, off, num, prev, x)
		prev = fmt.Sprint(x)
	}
	return b.Bytes()
}

// sameLength replaces the first match of the regular expression expr in
// pdf by repl, padded with spaces to the match's length, so that no
// offset moves; pdf is returned unchanged when repl is longer.
func sameLength(pdf []byte, expr, repl string) []byte {
	re := regexp.MustCompile(expr)
	m := re.FindSubmatchIndex(pdf)
	if m == nil {
		return pdf
	}
	out := re.Expand(nil, []byte(repl), pdf, m)
	if len(out) > m[1]-m[0] {
		return pdf
	}
	out = append(out, bytes.Repeat([]byte(" "), m[1]-m[0]-len(out))...)
	return slices.Concat(pdf[:m[0]], out, pdf[m[1]:])
}

// objStmBomb returns a PDF whose objects are in an object stream, the
// stream z with the given /Filter, located by a cross-reference stream:
// the catalog when fields is 0, else that many form fields the catalog
// lists, so that a reader opens the stream once per field.
func objStmBomb(z []byte, filter string, fields int) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	type row struct{ typ, f1, f2 int }
	rows := []row{{0, 0, 0xffff}, {2, 3, 0}, {1, b.Len(), 0}}
	b.WriteString("2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n")
	if fields > 0 {
		var refs strings.Builder
		for i := range fields {
			fmt.Fprintf(&refs, "%d 0 R ", 5+i)
		}
		rows[1] = row{1, b.Len(), 0}
		fmt.Fprintf(&b, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [%s] >> >>\nendobj\n", refs.String())
	}
	rows = append(rows, row{1, b.Len(), 0})
	fmt.Fprintf(&b, "3 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter %s /Length %d >>\nstream\n%s\nendstream\nendobj\n", filter, len(z), z)
	rows = append(rows, row{1, b.Len(), 0})
	for i := range fields {
		rows = append(rows, row{2, 3, i})
	}
	var data []byte
	for _, r := range rows {
		data = append(data, byte(r.typ), byte(r.f1>>24), byte(r.f1>>16), byte(r.f1>>8), byte(r.f1), byte(r.f2>>8), byte(r.f2))
	}
	fmt.Fprintf(&b, "4 0 obj\n<< /Type /XRef /W [1 4 2] /Size %d /Root 1 0 R /Length %d >>\nstream\n%s\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", len(rows), len(data), data, rows[4].f1)
	return b.Bytes()
}

// bombAfterSeal appends to sealed an incremental update, as a comune's
// signature would, whose form lists fields that live in the object
// stream z: the verifier reads the update several times (signatures,
// DocMDP changes), each time against the inflation limit.
func bombAfterSeal(sealed, z []byte, fields int) []byte {
	form := regexp.MustCompile(`/AcroForm (\d+) 0 R`).FindSubmatch(sealed)
	field := regexp.MustCompile(`/Fields \[(\d+) 0 R\]`).FindSubmatch(sealed)
	root := regexp.MustCompile(`/Root (\d+) 0 R`).FindAllSubmatch(sealed, -1)
	if form == nil || field == nil || root == nil {
		return sealed
	}
	prev := bytes.Fields(sealed[bytes.LastIndex(sealed, []byte("startxref"))+len("startxref"):])[0]
	var b bytes.Buffer
	b.Write(sealed)
	formOff := b.Len()
	var refs strings.Builder
	for i := range fields {
		fmt.Fprintf(&refs, " %d 0 R", 901+i)
	}
	fmt.Fprintf(&b, "%s 0 obj\n<< /Fields [%s 0 R%s] /SigFlags 3 >>\nendobj\n", form[1], field[1], refs.String())
	stmOff := b.Len()
	fmt.Fprintf(&b, "900 0 obj\n<< /Type /ObjStm /N %d /First 8 /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream\nendobj\n", fields, len(z), z)
	xrefOff := b.Len()
	row := func(typ, f1, f2 int) []byte {
		return []byte{byte(typ), byte(f1 >> 24), byte(f1 >> 16), byte(f1 >> 8), byte(f1), byte(f2 >> 8), byte(f2)}
	}
	data := slices.Concat(row(1, formOff, 0), row(1, stmOff, 0))
	for i := range fields {
		data = append(data, row(2, 900, i)...)
	}
	data = append(data, row(1, xrefOff, 0)...)
	fmt.Fprintf(&b, "%d 0 obj\n<< /Type /XRef /W [1 4 2] /Index [%s 1 900 %d] /Size %d /Root %s 0 R /Prev %s /Length %d >>\nstream\n%s\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n",
		901+fields, form[1], fields+2, 902+fields, root[len(root)-1][1], prev, len(data), data, xrefOff)
	return b.Bytes()
}

// manySignatures appends to sealed an incremental update whose form has n
// signature fields, each with its own copy of the seal's signature
// dictionary: n signatures to check, each over the whole sealed revision.
func manySignatures(sealed []byte, n int) []byte {
	i := bytes.Index(sealed, []byte("/Type /Sig"))
	if i < 0 {
		return sealed
	}
	start := bytes.LastIndex(sealed[:i], []byte("<<"))
	end := bytes.Index(sealed[i:], []byte(">>\nendobj"))
	if start < 0 || end < 0 {
		return sealed
	}
	sigDict := sealed[start : i+end+2]
	var b bytes.Buffer
	b.Write(sealed)
	first := 100000
	offs := map[int]int{}
	var fields strings.Builder
	for k := 0; k < n; k++ {
		num := first + 2*k
		offs[num] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", num, sigDict)
		offs[num+1] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n<< /FT /Sig /T (s%d) /V %d 0 R >>\nendobj\n", num+1, k, num)
		fmt.Fprintf(&fields, "%d 0 R ", num+1)
	}
	cat := first + 2*n
	offs[cat] = b.Len()
	fmt.Fprintf(&b, "%d 0 obj\n<< /Type /Catalog /AcroForm << /Fields [%s] /SigFlags 3 >> >>\nendobj\n", cat, fields.String())
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n%d %d\n", first, 2*n+1)
	for k := first; k <= cat; k++ {
		fmt.Fprintf(&b, "%010d 00000 n \n", offs[k])
	}
	prevOff := bytes.Fields(sealed[bytes.LastIndex(sealed, []byte("startxref"))+len("startxref"):])[0]
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root %d 0 R /Prev %s >>\nstartxref\n%d\n%%%%EOF\n", cat+1, cat, prevOff, xref)
	return b.Bytes()
}

// FuzzVerify feeds the verifier hostile PDFs: it must never panic, answer
// a report or an EINVALID error, and stay within fuzzMaxTime and
// fuzzMaxAlloc on every input.
func FuzzVerify(f *testing.F) {
	e := newEnv(f)
	_, sealed := e.create(f, "loiano", "adesione")
	for _, s := range hostileSeeds(sealed) {
		f.Add(s)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		r, err := e.verifier.Verify(ctx, data, "en")
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		if err != nil && faldone.ErrorCode(err) != faldone.EINVALID {
			t.Fatalf("error %v, want a report or EINVALID", err)
		}
		if err == nil && (r == nil || r.Size != int64(len(data)) || r.Valid && len(r.Signatures) == 0) {
			t.Fatalf("report %+v", r)
		}
		if took > fuzzMaxTime {
			t.Fatalf("took %v on %d bytes", took, len(data))
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > fuzzMaxAlloc {
			t.Fatalf("allocated %d MiB on %d bytes", alloc>>20, len(data))
		}
	})
}

// cost is what one verification took.
type cost struct {
	took  time.Duration
	alloc uint64 // bytes allocated
}

// costOf verifies data and returns the report and what it cost, or the
// error.
func costOf(e *env, data []byte) (*verify.Report, cost, error) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	r, err := e.verifier.Verify(context.Background(), data, "en")
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	return r, cost{took, after.TotalAlloc - before.TotalAlloc}, err
}

// TestHostileSeedCosts logs what each hostile seed costs to verify, holds
// every one to the fuzz bounds, and checks the limits that make them
// cheap.
func TestHostileSeedCosts(t *testing.T) {
	e := newEnv(t)
	_, sealed := e.create(t, "loiano", "adesione")
	seeds := hostileSeeds(sealed)
	for name, data := range seeds {
		r, c, err := costOf(e, data)
		took, alloc := c.took, c.alloc
		outcome := fmt.Sprint(err)
		if err == nil {
			outcome = fmt.Sprintf("valid=%v, %d signatures", r.Valid, len(r.Signatures))
		}
		t.Logf("%-28s %8d bytes  %10v  %6.1f MiB  %s", name, len(data), took.Round(time.Microsecond), float64(alloc)/(1<<20), outcome)
		if took > fuzzMaxTime || alloc > fuzzMaxAlloc {
			t.Errorf("%s: %v, %d MiB", name, took, alloc>>20)
		}
		if err != nil && faldone.ErrorCode(err) != faldone.EINVALID {
			t.Errorf("%s: %v", name, err)
		}
	}
	t.Run("a bomb is counted, not kept", func(t *testing.T) {
		for _, name := range []string{"flate bomb xref stream", "flate bomb object stream", "flate bomb opened per field", "flate bomb after the seal"} {
			if _, c, _ := costOf(e, seeds[name]); c.alloc > 32<<20 {
				t.Errorf("%s: %d MiB allocated, the inflated stream was kept", name, c.alloc>>20)
			}
		}
	})
	t.Run("signatures checked are bounded", func(t *testing.T) {
		r, _, err := costOf(e, seeds["many signatures"])
		if err != nil || len(r.Signatures) != 400 {
			t.Fatalf("%v, %d signatures", err, len(r.Signatures))
		}
		// Each copy of the seal's dictionary claims to sign the sealed
		// revision, which has no such field: the first 64 are checked and
		// found written after signing, the others are not checked at all.
		restated, unchecked := 0, 0
		for _, s := range r.Signatures {
			switch {
			case s.IntegrityReason == verify.CodeSignatureRestated:
				restated++
			case strings.Contains(s.IntegrityError, pades.ErrNotChecked.Error()):
				unchecked++
			}
		}
		if r.Valid || restated != 64 || unchecked != 400-64 {
			t.Errorf("valid %v, %d restated, %d unchecked", r.Valid, restated, unchecked)
		}
	})
}

func TestFlateBomb(t *testing.T) {
	zr, err := zlib.NewReader(bytes.NewReader(flate(64 << 20)))
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, zr)
	if err != nil || n != 64<<20 {
		t.Fatalf("inflated %d bytes: %v", n, err)
	}
}
