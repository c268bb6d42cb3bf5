package pades

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"
	"unicode/utf16"
)

// Signature describes one signature found in a PDF.
type Signature struct {
	// Index is the position of the signature in revision order, from 0.
	Index int
	// FieldName is the fully qualified name of the signature field.
	FieldName string
	// SubFilter is the signature dictionary's /SubFilter, such as
	// "ETSI.CAdES.detached" or "adbe.pkcs7.detached".
	SubFilter string
	// ByteRange is the signed byte range.
	ByteRange [4]int64
	// CoversWholeFile reports whether the byte range reaches the end of
	// the file, i.e. nothing was appended after this signature.
	CoversWholeFile bool
	// RevisionEnd is the end offset of the revision holding the signature.
	RevisionEnd int64
	// Contents is the CMS SignedData (DER, without the placeholder padding).
	Contents []byte
	// Signer is the signer certificate; nil when the CMS cannot be read.
	Signer *x509.Certificate
	// Certs are all certificates carried by the CMS, for chain building.
	Certs []*x509.Certificate
	// SigningTime is the signed signing-time attribute when present,
	// else the claimed time /M of the signature dictionary.
	SigningTime time.Time
	// Timestamp is the signature time-stamp token, nil when absent.
	Timestamp *Timestamp
	// Level is LevelBB, LevelBT, LevelBLT or LevelBLTA for PAdES
	// baseline signatures and "" for other signatures (for example
	// adbe.pkcs7.detached, or a document time-stamp).
	Level string
	// Validation is the validation data of the file's /DSS, nil when it
	// has none.
	Validation *ValidationData
	// DocMDP is the /P of a certification signature, 0 for other signatures.
	DocMDP int
	// IntegrityErr is nil when the CMS message digest matches the bytes
	// of ByteRange and the signature value verifies with Signer's key.
	// Trust in Signer is not checked.
	IntegrityErr error
}

// Limits of the signatures Inspect checks, so that a file with many
// signature fields, each over a large byte range, cannot make it hash and
// copy without end: at most maxSignatures are listed, at most
// maxCheckedSignatures of them are verified, and the byte ranges verified
// cover at most maxSignedBytes in all. A signature beyond a limit is
// listed with an IntegrityErr wrapping ErrNotChecked.
const (
	maxSignatures        = 1000
	maxCheckedSignatures = 64
	maxSignedBytes       = 256 << 20
)

// ErrNotChecked is wrapped by the IntegrityErr of a signature left
// unchecked because the file's signatures are over Inspect's limits.
var ErrNotChecked = errors.New("signature not checked: the file has too many signatures or they cover too many bytes")

// Inspect returns the signatures of pdf, in revision order. It verifies
// each signature's integrity (Signature.IntegrityErr) but not trust. It
// returns an error for input that is not a readable PDF.
func Inspect(pdf []byte) ([]Signature, error) {
	doc, err := parseDocument(pdf)
	if err != nil {
		return nil, fmt.Errorf("inspect: %w", err)
	}
	catalog := doc.dict(doc.trailer["Root"])
	if catalog == nil {
		return nil, fmt.Errorf("inspect: %w: catalog not found", errSyntax)
	}
	revs, _ := Revisions(pdf)
	var sigs []Signature
	b := &budget{signatures: maxCheckedSignatures, bytes: maxSignedBytes}
	signed := &signedRevisions{doc: doc, docs: map[int64]*document{}}
	for _, f := range sigFields(doc, catalog) {
		sd := doc.dict(f.dict["V"])
		if sd == nil {
			continue
		}
		sigs = append(sigs, inspectOne(doc, f.name, sd, revs, b, signed))
	}
	sort.SliceStable(sigs, func(i, j int) bool {
		return sigs[i].ByteRange[2]+sigs[i].ByteRange[3] < sigs[j].ByteRange[2]+sigs[j].ByteRange[3]
	})
	for i := range sigs {
		sigs[i].Index = i
	}
	applyLTV(doc, sigs, signed)
	return sigs, nil
}

// budget is what Inspect may still verify.
type budget struct {
	signatures int
	bytes      int64
}

// signedRevisions parses, once each, the revisions signatures sign.
type signedRevisions struct {
	doc  *document // the whole file
	docs map[int64]*document
}

// at returns the document as it was at the end of revision end.
func (r *signedRevisions) at(end int64) *document {
	if end == int64(len(r.doc.data)) {
		return r.doc
	}
	if d, ok := r.docs[end]; ok {
		return d
	}
	var d *document
	if len(r.docs) < maxAnalysedRevisions && end > 0 && end < int64(len(r.doc.data)) {
		d, _ = r.doc.parsePrefix(end)
	}
	r.docs[end] = d
	return d
}

// ErrRestated is the IntegrityErr of a signature whose dictionary is not
// the one of the revision it signs.
var ErrRestated = errors.New("the signature dictionary is not the one of the revision it signs: it was written again after signing")

func inspectOne(doc *document, name string, sd Dict, revs []int64, b *budget, revsAt *signedRevisions) Signature {
	s := Signature{FieldName: name, SubFilter: string(sd.name("SubFilter"))}
	m, _ := sd["M"].(String)
	s.SigningTime = parsePDFDate(string(m))
	br, err := byteRange(sd)
	if err != nil {
		s.IntegrityErr = err
		return s
	}
	s.ByteRange = br
	end := br[2] + br[3]
	s.CoversWholeFile = end == int64(len(doc.data))
	s.RevisionEnd = end
	for _, r := range revs {
		if r >= end {
			s.RevisionEnd = r
			break
		}
	}
	if end <= s.RevisionEnd && s.RevisionEnd <= int64(len(doc.data)) && len(bytes.TrimLeft(doc.data[end:s.RevisionEnd], "\x00\t\n\f\r ")) > 0 {
		s.IntegrityErr = fmt.Errorf("the signature does not cover its whole revision: %d bytes of it are not signed", s.RevisionEnd-end)
		return s
	}
	contents, _ := sd["Contents"].(String)
	s.Contents = trimDER(contents)
	switch s.SubFilter {
	case "ETSI.CAdES.detached", "adbe.pkcs7.detached", SubFilterDocTimestamp:
	default:
		s.IntegrityErr = fmt.Errorf("unsupported signature subfilter %q", s.SubFilter)
		return s
	}
	if signed := br[1] + br[3]; br[1] >= 0 && br[3] >= 0 && signed <= int64(len(doc.data)) {
		if b.signatures <= 0 || signed > b.bytes {
			s.IntegrityErr = fmt.Errorf("%w (at most %d signatures over %d MiB)", ErrNotChecked, maxCheckedSignatures, maxSignedBytes>>20)
			return s
		}
		b.signatures--
		b.bytes -= signed
	}
	// The signature dictionary, and the DocMDP permissions in it, are
	// those of the revision the signature signs, never of a later update.
	var own Dict
	if rd := revsAt.at(s.RevisionEnd); rd != nil {
		for _, f := range sigFields(rd, rd.dict(rd.trailer["Root"])) {
			if f.name == name {
				own = rd.dict(f.dict["V"])
				s.DocMDP = docMDPLevel(rd, own)
				break
			}
		}
	}
	if own == nil || !equalObj(own, sd) {
		s.IntegrityErr = ErrRestated
		return s
	}
	if s.SubFilter == SubFilterDocTimestamp {
		ts, err := verifyDocTimestamp(doc.data, br, contents)
		if err != nil {
			s.IntegrityErr = err
			return s
		}
		s.Signer, s.Certs, s.SigningTime, s.Timestamp = ts.Signer, ts.Certs, ts.Time, ts
		return s
	}
	info, err := verifyCMS(doc.data, br, contents)
	if err != nil {
		s.IntegrityErr = err
		return s
	}
	s.Signer, s.Certs = info.signer, info.certs
	if !info.signingTime.IsZero() {
		s.SigningTime = info.signingTime
	}
	if info.token != nil {
		s.Timestamp = inspectToken(info.token, info.signature)
	}
	if s.SubFilter == "ETSI.CAdES.detached" && info.essCertV2 {
		s.Level = LevelBB
		if s.Timestamp != nil && s.Timestamp.Err == nil {
			s.Level = LevelBT
		}
	}
	return s
}

// trimDER drops the zero padding after a DER element.
func trimDER(b []byte) []byte {
	if len(b) < 2 || b[1] < 0x80 {
		return bytes.TrimRight(b, "\x00")
	}
	n := int(b[1] & 0x7f)
	if n == 0 || n > 4 || len(b) < 2+n {
		return b
	}
	l := 0
	for _, c := range b[2 : 2+n] {
		l = l<<8 | int(c)
	}
	if total := 2 + n + l; total <= len(b) {
		return b[:total]
	}
	return b
}

// sigField is a terminal signature field of the AcroForm.
type sigField struct {
	name string
	ref  Ref
	dict Dict
}

// sigFields walks the AcroForm field tree and returns the signature fields.
func sigFields(doc *document, catalog Dict) []sigField {
	var out []sigField
	seen := map[Ref]bool{}
	budget := 10000
	var walk func(kids Array, prefix string, ft Name, depth int)
	walk = func(kids Array, prefix string, ft Name, depth int) {
		for _, k := range kids {
			r, _ := k.(Ref)
			d := doc.dict(k)
			if d == nil || depth > 32 || budget <= 0 || len(out) >= maxSignatures || (r != Ref{} && seen[r]) {
				continue
			}
			budget--
			seen[r] = true
			name := prefix
			if t, ok := d["T"].(String); ok {
				if name != "" {
					name += "."
				}
				name += decodeText(t)
			}
			fieldType := ft
			if x := d.name("FT"); x != "" {
				fieldType = x
			}
			if kids := doc.array(d["Kids"]); len(kids) > 0 && d["T"] != nil {
				walk(kids, name, fieldType, depth+1)
				continue
			}
			if fieldType == "Sig" {
				out = append(out, sigField{name: name, ref: r, dict: d})
			}
		}
	}
	walk(doc.array(doc.dict(catalog["AcroForm"])["Fields"]), "", "", 0)
	return out
}

// docMDPLevel returns the DocMDP /P of a signature dictionary, 0 if it is
// not a certification signature.
func docMDPLevel(doc *document, sd Dict) int {
	for _, r := range doc.array(sd["Reference"]) {
		ref := doc.dict(r)
		if ref.name("TransformMethod") != "DocMDP" {
			continue
		}
		p, ok := doc.dict(ref["TransformParams"]).int("P")
		if !ok || p < 1 || p > 3 {
			return 2
		}
		return int(p)
	}
	return 0
}

// decodeText decodes a PDF text string (UTF-16BE with BOM, or
// PDFDocEncoding read as Latin-1).
func decodeText(s String) string {
	if len(s) >= 2 && s[0] == 0xfe && s[1] == 0xff {
		u := make([]uint16, 0, len(s)/2)
		for i := 2; i+1 < len(s); i += 2 {
			u = append(u, uint16(s[i])<<8|uint16(s[i+1]))
		}
		return string(utf16.Decode(u))
	}
	r := make([]rune, len(s))
	for i, c := range s {
		r[i] = rune(c)
	}
	return string(r)
}

// Revisions returns the end offset of each revision of pdf, in file
// order: the position just after each "startxref N %%EOF" trailer and
// its end-of-line.
func Revisions(pdf []byte) ([]int64, error) {
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		return nil, fmt.Errorf("revisions: %w", ErrNotPDF)
	}
	var out []int64
	key := []byte("startxref")
	for pos := 0; len(out) < maxXrefSections; {
		i := bytes.Index(pdf[pos:], key)
		if i < 0 {
			break
		}
		l := &lexer{b: pdf, pos: pos + i + len(key)}
		pos = l.pos
		if _, err := strconv.ParseInt(string(l.keyword()), 10, 64); err != nil {
			continue
		}
		for l.pos < len(pdf) && isWhite(pdf[l.pos]) {
			l.pos++
		}
		if !bytes.HasPrefix(pdf[l.pos:], []byte("%%EOF")) {
			continue
		}
		end := l.pos + len("%%EOF")
		if end < len(pdf) && pdf[end] == '\r' {
			end++
		}
		if end < len(pdf) && pdf[end] == '\n' {
			end++
		}
		out = append(out, int64(end))
		pos = end
	}
	if len(out) == 0 {
		return nil, errors.New("revisions: no %%EOF trailer found")
	}
	return out, nil
}
