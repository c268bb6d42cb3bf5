package docs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"faldone/internal/faldone"
	"faldone/internal/pades"
	"faldone/internal/tmpl"
	"faldone/internal/trust"
)

// Sealer seals a rendered PDF. It returns the sealed file and the facts of
// the seal; the rendered bytes MUST stay an exact prefix of the result.
type Sealer interface {
	Seal(ctx context.Context, pdf []byte, d *faldone.Document) ([]byte, *faldone.SealFacts, error)
}

// Service creates, archives and returns documents: render, seal, archive.
type Service struct {
	Renderer *Renderer       // Required.
	Sealer   Sealer          // Optional: nil archives unsealed documents.
	Archive  faldone.Archive // Required.
	// Now is the clock of the records, and the time trust is decided at
	// when no trusted time-stamp fixes it. If nil, time.Now is used.
	Now func() time.Time
	// Trust judges the signer of a comune's signed copy, the judgement
	// verification makes (verify.Verifier.Policy). Optional: nil trusts
	// no one.
	Trust *trust.Policy
	// RequireTrusted refuses a signed copy whose new signature is not
	// trusted (EUNTRUSTED); when false the copy is archived and its signer
	// recorded as not trusted. Production sets it.
	RequireTrusted bool
	// Messages localises the reasons of a refused signer. Optional: nil
	// uses the templates of Renderer.
	Messages interface {
		Localize(lang, id string, params map[string]any) string
	}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Create renders a document of kind from a request body, seals it and
// archives it as version 1 of a new id, on behalf of actor. A document that
// cites another (a piano cites its assessment, an approvazione its piano)
// needs that document archived, of the right kind and the same comune; its
// id and SHA-256 are printed in the new document.
func (s *Service) Create(ctx context.Context, kind faldone.Kind, body []byte, lang, actor string) (*faldone.Record, error) {
	return s.CreateID(ctx, NewID(), kind, body, lang, actor)
}

// CreateID is Create with the id of the new document chosen by the caller
// (a batch chooses its items' ids up front, so that an item run twice is
// archived once: the second Append of version 1 fails with ECONFLICT).
func (s *Service) CreateID(ctx context.Context, id string, kind faldone.Kind, body []byte, lang, actor string) (*faldone.Record, error) {
	data, err := tmpl.Decode(body)
	if err != nil {
		return nil, err
	}
	t, ok := s.Renderer.Templates.Template(string(kind))
	if !ok {
		return nil, &faldone.Error{Code: faldone.ENOTFOUND, MessageID: "error.unknown_kind", Params: map[string]any{"Kind": string(kind)}, Message: fmt.Sprintf("unknown document kind %q", kind)}
	}
	in, err := s.Renderer.Templates.Validate(string(kind), data, lang)
	if err != nil {
		return nil, err
	}
	if err := CheckConsistency(s.Renderer.Templates, in.Lang, kind, in.Data); err != nil {
		return nil, err
	}
	var cited *faldone.Record
	var dossier []*faldone.Record
	if t.Cites != "" {
		if cited, err = s.cited(ctx, t, in.Data, in.Lang); err != nil {
			return nil, err
		}
		chain, err := s.Chain(ctx, cited)
		if err != nil {
			return nil, err
		}
		if err := CheckChain(s.Renderer.Templates, in.Lang, kind, in.Data, chain); err != nil {
			return nil, err
		}
		if kind == faldone.KindChiusura {
			if dossier, err = s.closing(ctx, cited, chain, t.Cites, in.Lang); err != nil {
				return nil, err
			}
		}
	}
	opts := []Option{Cited(cited), Dossier(dossier)}
	if s.Sealer == nil {
		opts = append(opts, Draft()) // what is not sealed says so on every page
	}
	// The render, and the seal and the append when they wait for no other
	// server, run in one render slot: requests are worked in the order
	// they came.
	if err := acquireRender(ctx); err != nil {
		return nil, err
	}
	held := true
	release := func() {
		if held {
			releaseRender()
			held = false
		}
	}
	defer release()
	res, err := s.Renderer.renderInput(ctx, kind, in, opts...)
	if err != nil {
		return nil, err
	}
	d := res.Document
	pdf := res.PDF
	if s.Sealer != nil {
		if !local(s.Sealer) {
			release() // a time-stamp authority answers in its own time
		}
		sealed, facts, err := s.Sealer.Seal(ctx, pdf, &d)
		if err != nil {
			return nil, err
		}
		pdf, d.Seal = sealed, facts
	}
	if !local(s.Archive) || ctx.Value(batchedKey{}) != nil {
		// A database or an object store elsewhere answers in its own
		// time; the items of a batch commit in larger groups when more of
		// them wait for the disk at once.
		release()
	}
	rec := &faldone.Record{
		ID: id, Version: 1, Kind: kind, Comune: d.Comune, IPA: d.IPA, Oggetto: d.Oggetto,
		Protocol: d.Protocol, Lang: d.Lang, Date: d.Date.Format(time.DateOnly),
		Input: d.Input, InputSHA: d.InputSHA, Template: d.Template,
		Actor: actor, Created: s.now().UTC(), Format: "application/pdf", Producer: d.Producer,
		Conformance: d.Conformance,
	}
	if d.Seal != nil {
		rec.Seal = *d.Seal
	}
	if cited != nil {
		rec.Cites, rec.CitesSHA = cited.ID, cited.SHA256
	}
	if err := s.Archive.Append(ctx, rec, pdf); err != nil {
		return nil, fmt.Errorf("archive %s: %w", kind, err)
	}
	return rec, nil
}

// cited checks the document a new one cites and returns its newest version.
func (s *Service) cited(ctx context.Context, t *tmpl.Template, data map[string]any, lang string) (*faldone.Record, error) {
	id, _ := data[t.Cites].(string)
	want := citing[faldone.Kind(t.ID)]
	fail := func(code string, params map[string]any) error {
		return s.Renderer.Templates.FieldErrors(lang, faldone.FieldError{Path: "$." + t.Cites, Code: code, Params: params})
	}
	if id == "" {
		return nil, nil // the validator reports the missing field
	}
	rec, err := s.Archive.Latest(ctx, id)
	if faldone.ErrorCode(err) == faldone.ENOTFOUND {
		return nil, fail("cited_missing", map[string]any{"ID": id})
	} else if err != nil {
		return nil, err
	}
	comune, _ := data[t.Comune].(string)
	switch {
	case want != "" && rec.Kind != want:
		return nil, fail("cited_kind", map[string]any{"ID": id, "Kind": string(rec.Kind), "Want": string(want)})
	case rec.Comune != comune:
		return nil, fail("cited_comune", map[string]any{"ID": id})
	}
	return rec, nil
}

// Chain returns rec and the documents it cites up the chain (an
// approvazione, its piano, the piano's assessment), each as its newest
// version with its decoded input.
func (s *Service) Chain(ctx context.Context, rec *faldone.Record) ([]Link, error) {
	var chain []Link
	for rec != nil && len(chain) < len(citing)+1 {
		l, err := NewLink(rec)
		if err != nil {
			return nil, err
		}
		chain = append(chain, l)
		if rec.Cites == "" {
			break
		}
		if rec, err = s.Archive.Latest(ctx, rec.Cites); err != nil {
			return nil, fmt.Errorf("chain of %s: %w", chain[0].Rec.ID, err)
		}
	}
	return chain, nil
}

// closing refuses a second chiusura of the same approvazione (the first
// closed the dossier) and returns the documents a chiusura lists, oldest
// first: the comune's newest adesione, then the chain it closes
// (assessment, piano, approvazione), each as its newest version.
func (s *Service) closing(ctx context.Context, approvazione *faldone.Record, chain []Link, field, lang string) ([]*faldone.Record, error) {
	recs, err := s.Archive.Dossier(ctx, approvazione.Comune)
	if err != nil {
		return nil, err
	}
	var adesione *faldone.Record
	for _, r := range recs {
		if r.Kind == faldone.KindChiusura && r.Cites == approvazione.ID {
			return nil, s.Renderer.Templates.FieldErrors(lang, faldone.FieldError{Path: "$." + field, Code: "chain_closed",
				Params: map[string]any{"ID": r.ID, "Date": tmpl.FormatDate(lang, r.Date, false)}})
		}
		if r.Kind == faldone.KindAdesione {
			adesione = r // oldest first: the last one is the newest version of the newest adesione
		}
	}
	var out []*faldone.Record
	if adesione != nil {
		out = append(out, adesione)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		out = append(out, chain[i].Rec)
	}
	return out, nil
}

// Latest returns the newest version of a document.
func (s *Service) Latest(ctx context.Context, id string) (*faldone.Record, error) {
	return s.Archive.Latest(ctx, id)
}

// PDF returns one version of a document (0: the newest) and its PDF.
func (s *Service) PDF(ctx context.Context, id string, version int) (*faldone.Record, []byte, error) {
	var rec *faldone.Record
	var err error
	if version == 0 {
		rec, err = s.Archive.Latest(ctx, id)
	} else {
		rec, err = s.Archive.Version(ctx, id, version)
	}
	if err != nil {
		return nil, nil, err
	}
	pdf, err := s.Archive.PDF(ctx, rec.SHA256)
	if err != nil {
		return nil, nil, fmt.Errorf("pdf of %s v%d: %w", rec.ID, rec.Version, err)
	}
	return rec, pdf, nil
}

// ReturnSigned archives the copy of a document that the comune signed as
// its next version. The copy MUST begin with exactly the bytes of the newest
// archived version, add at least one valid signature in appended revisions,
// and change nothing the seal's DocMDP permissions forbid; otherwise the
// answer is EINVALID naming every condition that failed. The newest new
// signature's signer is judged with Trust and recorded in
// Seal.ComuneSigner; with RequireTrusted, a signer that is not trusted, or
// any error the judgement finds about a new signature, is EUNTRUSTED.
func (s *Service) ReturnSigned(ctx context.Context, id string, signed []byte, lang, actor string) (*faldone.Record, *pades.CounterReport, error) {
	prev, base, err := s.PDF(ctx, id, 0)
	if err != nil {
		return nil, nil, err
	}
	if st := faldone.State(prev); st != faldone.StateAwaitComune {
		// One signature per request: a further signature by the comune
		// is a new request of the task force (a new document).
		return nil, nil, &faldone.Error{Code: faldone.ECONFLICT, MessageID: "error.signed_not_awaiting",
			Params:  map[string]any{"Version": prev.Version, "State": st},
			Message: fmt.Sprintf("document %s is not awaiting the comune's signature (version %d is %s)", id, prev.Version, st)}
	}
	if !bytes.HasPrefix(signed, []byte("%PDF-")) {
		return nil, nil, &faldone.Error{Code: faldone.EINVALID, MessageID: "error.not_pdf", Message: "the file is not a PDF"}
	}
	report, err := pades.CheckCountersigned(base, signed)
	var ce *pades.CountersignError
	if errors.As(err, &ce) || (err == nil && !report.OK) {
		var reasons []string
		var fields []faldone.FieldError
		for _, p := range report.Problems {
			reasons = append(reasons, p.Reason)
			// The library's evidence (English, "pkcs7: ...") is
			// not a message: the reason's, in the caller's language.
			msg := s.Renderer.Templates.Localize(lang, "error.signed_"+p.Reason, nil)
			if p.Params != nil {
				// A change or an ambiguity the shared analysis found: the
				// verification report's message, in the caller's language.
				params := maps.Clone(p.Params)
				if k, ok := params["Kind"].(string); ok {
					params["Change"] = s.Renderer.Templates.Localize(lang, "verify.change_"+k, nil)
				}
				msg = s.Renderer.Templates.Localize(lang, "verify."+p.Reason, params)
			}
			fields = append(fields, faldone.FieldError{Path: "$", Code: p.Reason, Message: msg})
		}
		msg := s.Renderer.Templates.Localize(lang, "error.signature_refused", map[string]any{"Reasons": strings.Join(reasons, ", ")})
		return nil, report, &faldone.Error{Code: faldone.EINVALID, MessageID: "error.signature_refused", Params: map[string]any{"Reasons": strings.Join(reasons, ", ")}, Message: msg, Fields: fields}
	} else if err != nil {
		return nil, report, &faldone.Error{Code: faldone.EINVALID, MessageID: "error.not_pdf", Message: "the file cannot be read as a PDF: " + err.Error(), Err: err}
	}
	signer, err := s.judgeSigner(report, lang)
	if err != nil {
		return nil, report, err
	}
	rec := *prev
	signed = s.extendSigned(ctx, signed, &rec)
	rec.Version = prev.Version + 1
	rec.PrevSHA = prev.SHA256
	rec.Reason = faldone.ChangeSigned
	rec.SHA256, rec.Size, rec.Leaf = "", 0, 0
	rec.Seal.ComuneSigned = true
	rec.Seal.ComuneSigner = signer
	rec.Conformance = nil // another program's update: the service claims nothing of it
	rec.Actor = actor
	rec.Created = s.now().UTC()
	if err := s.Archive.Append(ctx, &rec, signed); err != nil {
		return nil, report, fmt.Errorf("archive signed copy of %s: %w", id, err)
	}
	return &rec, report, nil
}

// judgeSigner judges the signatures of a countersigned copy as
// verification does and returns the signer of the newest new signature.
// With RequireTrusted, a new signature that is not accepted is EUNTRUSTED,
// its findings localised as the problem's fields.
func (s *Service) judgeSigner(report *pades.CounterReport, lang string) (*faldone.Signer, error) {
	p := s.Trust
	if p == nil {
		p = &trust.Policy{}
	}
	judged := p.Judge(report.Signatures, s.now())
	var signer *faldone.Signer
	var refused *trust.Judgement
	var refusedIdx int
	for i := range report.Signatures {
		sg, j := &report.Signatures[i], &judged[i]
		if sg.ByteRange[2]+sg.ByteRange[3] <= report.SealedSize || j.Signer == nil {
			continue
		}
		signer = j.Signer
		if !j.Accepted() && refused == nil {
			refused, refusedIdx = j, i
		}
	}
	if signer == nil {
		return nil, &faldone.Error{Code: faldone.EINVALID, MessageID: "error.signature_refused", Params: map[string]any{"Reasons": pades.ReasonInvalidSignature},
			Message: "the new signature carries no signer certificate"}
	}
	if refused == nil || !s.RequireTrusted {
		return signer, nil
	}
	msgs := s.Messages
	if msgs == nil {
		msgs = s.Renderer.Templates
	}
	var codes []string
	var fields []faldone.FieldError
	for _, f := range refused.Findings {
		if f.Severity != trust.SeverityError {
			continue
		}
		params := map[string]any{"Signature": refusedIdx + 1}
		for k, v := range f.Params {
			params[k] = v
		}
		codes = append(codes, f.Code)
		fields = append(fields, faldone.FieldError{Path: "$", Code: f.Code, Params: params, Message: msgs.Localize(lang, "verify."+f.Code, params)})
	}
	if len(codes) == 0 {
		codes = []string{trust.CodeUntrustedSigner}
	}
	var said []string
	for _, c := range codes {
		said = append(said, msgs.Localize(lang, "trustreason."+c, nil))
	}
	params := map[string]any{"Subject": refused.Signer.Subject, "Reasons": strings.Join(said, "; ")}
	return nil, &faldone.Error{Code: faldone.EUNTRUSTED, MessageID: "error.signer_untrusted", Params: params,
		Message: msgs.Localize(lang, "error.signer_untrusted", params), Fields: fields}
}

// batchedKey marks the context of a document made for a batch.
type batchedKey struct{}

// Batched marks ctx as that of a document made for a batch, which wants
// the most documents a second rather than the fairest queue: its render
// slot is given back before its append, so that more appends wait for
// the disk at once and commit together (5,490 letters in 9.1-9.8 s
// instead of 10.3-10.6 s on 2 cores with the appends in the slots).
func Batched(ctx context.Context) context.Context {
	return context.WithValue(ctx, batchedKey{}, true)
}

// local reports whether v (a sealer, an archive) says its work waits for
// nothing but this process, false when it does not say.
func local(v any) bool {
	l, ok := v.(interface{ Local() bool })
	return ok && l.Local()
}
