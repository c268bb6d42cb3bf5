package pades

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"time"
)

// Long-term levels reported in Signature.Level and LTVResult.Level.
const (
	// LevelBLT is PAdES-B-LT: B-T plus the validation data of the
	// signature's chain and of its time-stamp authority's chain in the
	// document's /DSS.
	LevelBLT = "B-LT"
	// LevelBLTA is PAdES-B-LTA: B-LT plus a document time-stamp over the
	// file holding that validation data.
	LevelBLTA = "B-LTA"
)

// LTV extends the signatures of a file to B-LT and B-LTA.
type LTV struct {
	// Revocation fetches the revocation data. Required.
	Revocation *Revocation
	// TSA makes the document time-stamp (B-LTA). Optional: nil stops at
	// B-LT.
	TSA *TSA
	// Extra are certificates to add to every chain looked up, such as a
	// root the signatures do not carry. Optional.
	Extra []*x509.Certificate
}

// LTVResult describes what Extend appended.
type LTVResult struct {
	// Level is LevelBLT or LevelBLTA.
	Level string
	// TimestampTime is the document time-stamp's time; zero for B-LT.
	TimestampTime time.Time
	// TimestampSigner is the certificate of the document time-stamp's
	// authority; nil for B-LT.
	TimestampSigner *x509.Certificate
	// Validation is the data the /DSS update added.
	Validation *ValidationData
}

// Extend appends to pdf, whose signatures must all be intact, an
// incremental update with a /DSS holding the certificates and revocation
// data of every signature's chain and time-stamp chain (OCSP, else
// CRLs), with a /VRI entry per signature, then, when l.TSA is set, a
// document time-stamp over the whole file. pdf is an unchanged prefix of
// the output. Errors wrap ErrRevocationUnavailable, ErrRevoked or
// ErrTSAUnavailable where they apply.
func (l *LTV) Extend(ctx context.Context, pdf []byte) ([]byte, *LTVResult, error) {
	if l.Revocation == nil {
		return nil, nil, errors.New("ltv: no revocation client")
	}
	sigs, err := Inspect(pdf)
	if err != nil {
		return nil, nil, fmt.Errorf("ltv: %w", err)
	}
	if len(sigs) == 0 {
		return nil, nil, errors.New("ltv: the file has no signatures")
	}
	contents, err := rawContents(pdf)
	if err != nil {
		return nil, nil, fmt.Errorf("ltv: %w", err)
	}
	// Chains are built from every certificate at hand: the signatures',
	// their time-stamps', the /DSS's and Extra.
	pool := append([]*x509.Certificate{}, l.Extra...)
	for _, s := range sigs {
		pool = append(pool, s.Certs...)
		if s.Timestamp != nil {
			pool = append(pool, s.Timestamp.Certs...)
		}
	}
	if len(sigs) > 0 && sigs[0].Validation != nil {
		for _, der := range sigs[0].Validation.Certs {
			if c, err := x509.ParseCertificate(der); err == nil {
				pool = append(pool, c)
			}
		}
	}
	pool = uniqueCerts(pool)
	all := &ValidationData{}
	vri := map[string]*ValidationData{}
	cache := map[[32]byte]*ValidationData{}
	checks := sigChecks{}
	for _, s := range sigs {
		if s.IntegrityErr != nil {
			return nil, nil, fmt.Errorf("ltv: signature %d (%s): %w", s.Index+1, s.FieldName, s.IntegrityErr)
		}
		certs := l.chain(ctx, s.Signer, &pool, checks)
		if s.Timestamp != nil && s.Timestamp.Signer != nil && s.Timestamp.Signer != s.Signer {
			certs = append(certs, l.chain(ctx, s.Timestamp.Signer, &pool, checks)...)
		}
		vd, err := l.Revocation.collect(ctx, uniqueCerts(certs), cache, checks)
		if err != nil {
			return nil, nil, fmt.Errorf("ltv: signature %d (%s): %w", s.Index+1, s.FieldName, err)
		}
		all.add(vd)
		if c, ok := contents[s.FieldName]; ok {
			vri[vriKey(c)] = vd
		}
	}
	out, err := AddDSS(pdf, all, vri)
	if err != nil {
		return nil, nil, err
	}
	res := &LTVResult{Level: LevelBLT, Validation: all}
	if l.TSA == nil {
		return out, res, nil
	}
	hint := 0
	for _, s := range sigs {
		if s.Timestamp != nil {
			hint = max(hint, len(s.Timestamp.Token)+512)
		}
	}
	out, ts, err := addDocTimestamp(ctx, out, l.TSA, hint)
	if err != nil {
		return nil, nil, err
	}
	res.Level, res.TimestampTime, res.TimestampSigner = LevelBLTA, ts.Time, ts.Signer
	return out, res, nil
}

// chainOf returns leaf and its issuers found in pool, up to a
// self-signed certificate or one whose issuer pool lacks.
func chainOf(leaf *x509.Certificate, pool []*x509.Certificate, checks sigChecks) []*x509.Certificate {
	if leaf == nil {
		return nil
	}
	for _, c := range pool { // the pool's copy, whose checks are remembered
		if c.Equal(leaf) {
			leaf = c
			break
		}
	}
	chain := []*x509.Certificate{leaf}
	for c := leaf; len(chain) < 16 && !checks.selfSigned(c); {
		i := checks.issuerOf(c, pool)
		if i == nil {
			break
		}
		chain = append(chain, i)
		c = i
	}
	return chain
}

// chain is chainOf, completed when an issuer is missing by the
// certificate its Authority Information Access names (caIssuers, DER).
func (l *LTV) chain(ctx context.Context, leaf *x509.Certificate, pool *[]*x509.Certificate, checks sigChecks) []*x509.Certificate {
	for range 4 {
		c := chainOf(leaf, *pool, checks)
		if len(c) == 0 || checks.selfSigned(c[len(c)-1]) {
			return c
		}
		last := c[len(c)-1]
		found := false
		for _, u := range last.IssuingCertificateURL {
			if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				continue
			}
			der, err := l.Revocation.fetch(ctx, http.MethodGet, u, "", nil)
			if err != nil {
				continue
			}
			if i, err := x509.ParseCertificate(der); err == nil && checks.signed(last, i) {
				*pool = append(*pool, i)
				found = true
				break
			}
		}
		if !found {
			return c
		}
	}
	return chainOf(leaf, *pool, checks)
}

// uniqueCerts drops the certificates met before, comparing bytes.
func uniqueCerts(certs []*x509.Certificate) []*x509.Certificate {
	seen := map[string]bool{}
	out := certs[:0:0]
	for _, c := range certs {
		if c != nil && !seen[string(c.Raw)] {
			seen[string(c.Raw)] = true
			out = append(out, c)
		}
	}
	return out
}

// vriKey is the key of a signature's /VRI entry: the upper-case hex
// SHA-1 of the bytes of its /Contents string.
func vriKey(contents []byte) string {
	h := sha1.Sum(contents)
	return fmt.Sprintf("%X", h[:])
}

// rawContents returns the /Contents string of every signed field, by
// fully qualified name, with its padding.
func rawContents(pdf []byte) (map[string][]byte, error) {
	doc, err := parseDocument(pdf)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, f := range sigFields(doc, doc.dict(doc.trailer["Root"])) {
		if sd := doc.dict(f.dict["V"]); sd != nil {
			c, _ := sd["Contents"].(String)
			out[f.name] = c
		}
	}
	return out, nil
}

// dssStream is a DSS stream. DER certificates, OCSP responses and CRLs
// hardly compress (a few per cent), and a deflater costs more CPU than
// the rest of the update: they are stored as they are.
func dssStream(der []byte) *Stream {
	return &Stream{Dict: Dict{}, Raw: der}
}

// AddDSS appends to pdf an incremental update whose catalog has a /DSS
// with the certificates, OCSP responses and CRLs of vd and a /VRI entry
// for each key of vri (vriKey of a signature's /Contents). What the
// file's /DSS already holds is kept and not added twice.
func AddDSS(pdf []byte, vd *ValidationData, vri map[string]*ValidationData) ([]byte, error) {
	doc, err := parseDocument(pdf)
	if err != nil {
		return nil, fmt.Errorf("dss: %w", err)
	}
	if doc.trailer["Encrypt"] != nil {
		return nil, errors.New("dss: encrypted PDFs are not supported")
	}
	rootRef, ok := doc.trailer["Root"].(Ref)
	catalog := doc.dict(rootRef)
	if !ok || catalog == nil {
		return nil, errors.New("dss: catalog not found")
	}
	size := 0
	if s, ok := doc.trailer.int("Size"); ok && s > 0 && s < maxObjects {
		size = int(s)
	}
	for n := range doc.xref {
		size = max(size, n+1)
	}
	next := func() Ref { size++; return Ref{Num: size - 1} }
	var objs []pendingObject

	old := doc.dict(catalog["DSS"])
	dss := Dict{"Type": Name("DSS")}
	for k, v := range old {
		dss[k] = v
	}
	// The DER already stored, by SHA-256, with its reference.
	refs := map[[32]byte]Ref{}
	for _, k := range []Name{"Certs", "OCSPs", "CRLs"} {
		arr := doc.array(old[k])
		dss[k] = append(Array{}, arr...)
		for _, v := range arr {
			r, ok := v.(Ref)
			s, _ := doc.resolve(v).(*Stream)
			if !ok || s == nil {
				continue
			}
			if data, err := doc.decode(s); err == nil {
				refs[sha256.Sum256(data)] = r
			}
		}
	}
	store := func(k Name, der []byte) Ref {
		h := sha256.Sum256(der)
		if r, ok := refs[h]; ok {
			return r
		}
		r := next()
		objs = append(objs, pendingObject{r, dssStream(der)})
		refs[h] = r
		dss[k] = append(dss[k].(Array), r)
		return r
	}
	if vd != nil {
		for _, c := range vd.Certs {
			store("Certs", c)
		}
		for _, o := range vd.OCSPs {
			store("OCSPs", o)
		}
		for _, c := range vd.CRLs {
			store("CRLs", c)
		}
	}
	if len(vri) > 0 {
		vris := Dict{}
		for k, v := range doc.dict(old["VRI"]) {
			vris[k] = v
		}
		keys := make([]string, 0, len(vri))
		for k := range vri {
			keys = append(keys, k)
		}
		for _, k := range keys {
			v := vri[k]
			e := Dict{}
			for _, f := range []struct {
				key, dssKey Name
				list        [][]byte
			}{{"Cert", "Certs", v.Certs}, {"OCSP", "OCSPs", v.OCSPs}, {"CRL", "CRLs", v.CRLs}} {
				var a Array
				for _, der := range f.list {
					a = append(a, store(f.dssKey, der))
				}
				if len(a) > 0 {
					e[f.key] = a
				}
			}
			vris[Name(k)] = e
		}
		dss["VRI"] = vris
	}
	for _, k := range []Name{"Certs", "OCSPs", "CRLs"} {
		if len(dss[k].(Array)) == 0 {
			delete(dss, k)
		}
	}
	dssRef := next()
	objs = append(objs, pendingObject{dssRef, dss})
	nc := maps.Clone(catalog)
	nc["DSS"] = dssRef
	if pdfVersion(doc, catalog) < "1.7" {
		nc["Version"] = Name("1.7")
	}
	objs = append(objs, pendingObject{rootRef, nc})
	up := &update{doc: doc, objects: objs}
	if doc.xrefStream {
		up.xrefNum = next().Num
	}
	up.size = size
	return up.renderPlain(pdf)
}

// renderPlain appends an update that holds no signature.
func (up *update) renderPlain(pdf []byte) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(len(pdf) + 8192)
	offsets, err := up.writeObjects(&b, pdf)
	if err != nil {
		return nil, err
	}
	if err := up.writeXref(&b, offsets); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// DocTimestampField is the name of the field of the first document
// time-stamp; later ones are numbered upwards. DocTimestampDescription
// is its widget's /TU, for assistive technology.
const (
	DocTimestampField       = "Timestamp"
	DocTimestampDescription = "Marca temporale del documento per la conservazione (PAdES B-LTA)"
)

// AddDocTimestamp appends to pdf an incremental update holding a
// document time-stamp (/Type /DocTimeStamp, /SubFilter /ETSI.RFC3161)
// over the whole file, in a new signature field whose widget is
// invisible (a zero rectangle), printable and has an empty appearance,
// as PDF/A asks. The output's time-stamp is verified before it is
// returned.
func AddDocTimestamp(ctx context.Context, pdf []byte, tsa *TSA) ([]byte, *Timestamp, error) {
	return addDocTimestamp(ctx, pdf, tsa, 0)
}

// addDocTimestamp is AddDocTimestamp with a guess of the token's size
// (0: 6 KiB), such as that of the tokens the TSA made before.
func addDocTimestamp(ctx context.Context, pdf []byte, tsa *TSA, size int) ([]byte, *Timestamp, error) {
	if tsa == nil {
		return nil, nil, errors.New("document time-stamp: no TSA")
	}
	doc, err := parseDocument(pdf)
	if err != nil {
		return nil, nil, fmt.Errorf("document time-stamp: parse pdf: %w", err)
	}
	up, err := planUpdate(doc, &Options{FieldName: DocTimestampField, Description: DocTimestampDescription}, time.Now())
	if err != nil {
		return nil, nil, fmt.Errorf("document time-stamp: %w", err)
	}
	up.sigDict = "/Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161"
	for i, p := range up.objects {
		if d, ok := p.val.(Dict); ok && d["V"] == up.sigRef && d.name("Subtype") == "Widget" && d["AP"] == nil {
			apRef := Ref{Num: up.size}
			up.size++
			w := maps.Clone(d)
			w["AP"] = Dict{"N": apRef}
			up.objects[i].val = w
			up.objects = append(up.objects, pendingObject{apRef, &Stream{Dict: Dict{
				"Type": Name("XObject"), "Subtype": Name("Form"), "BBox": Array{int64(0), int64(0), int64(0), int64(0)},
			}}})
			break
		}
	}
	if size <= 0 {
		size = 6144
	}
	for attempt := 0; attempt < maxSignAttempts; attempt++ {
		out, br, err := up.render(pdf, size)
		if err != nil {
			return nil, nil, fmt.Errorf("document time-stamp: %w", err)
		}
		h := sha256.New()
		h.Write(out[:br[1]])
		h.Write(out[br[2]:])
		token, _, err := tsa.Stamp(ctx, h.Sum(nil))
		if err != nil {
			return nil, nil, fmt.Errorf("document time-stamp: %w", err)
		}
		if len(token) > size {
			size = len(token) + 512
			continue
		}
		hex.Encode(out[br[1]+1:], token)
		ts, err := verifyDocTimestamp(out, br, append(token, make([]byte, size-len(token))...))
		if err != nil {
			return nil, nil, fmt.Errorf("document time-stamp: self-check: %w", err)
		}
		return out, ts, nil
	}
	return nil, nil, fmt.Errorf("document time-stamp: token does not fit in %d bytes", size)
}
