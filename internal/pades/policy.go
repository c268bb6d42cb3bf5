package pades

import (
	"math"
	"strings"
)

// Reasons a change after a signature is forbidden, in Change.Rule when
// Change.Allowed is false (besides ReasonDocMDPViolation, any other change).
const (
	// ReasonInfoChanged: the document information dictionary (/Info:
	// title, author...) was added or changed.
	ReasonInfoChanged = "info_changed"
	// ReasonMetadataChanged: the catalog's XMP /Metadata was added or changed.
	ReasonMetadataChanged = "metadata_changed"
	// ReasonXFAAdded: an XFA form was added to the AcroForm.
	ReasonXFAAdded = "xfa_added"
	// ReasonSigNotWidget: an annotation that is not a widget claims to
	// be a signature field (/FT /Sig).
	ReasonSigNotWidget = "sig_annotation_not_widget"
	// ReasonUnsignedAppearance: a new signature field that is not signed
	// has a visible appearance.
	ReasonUnsignedAppearance = "unsigned_signature_appearance"
	// ReasonAnnotationAdded: an annotation was added to a page where the
	// permissions do not allow annotations.
	ReasonAnnotationAdded = "annotation_added"
	// ReasonFieldAdded: a form field that is not a signature field was added.
	ReasonFieldAdded = "field_added"
	// ReasonSignatureReused: a new signature field's value is not a new
	// signature made after the signed revision.
	ReasonSignatureReused = "signature_reused"
	// ReasonDiffTooLarge: the changes are too many to analyse.
	ReasonDiffTooLarge = "changes_too_many"
)

// verdict is what a rule says of a change.
type verdict int

const (
	pass    verdict = iota // the rule has nothing to say
	allowed                // the rule allows the change
	denied                 // the rule forbids the change
)

// Rule is one small whitelisting (or vetoing) rule of a Policy.
type Rule struct {
	// Name says what the rule allows, and is recorded in Change.Rule.
	Name  string
	judge func(x *judgement, c *Change) (verdict, string)
}

// Policy judges the changes after a signature: its rules are tried in
// order on each change, the first that allows or forbids it decides, and
// a change no rule decides is forbidden as ReasonDocMDPViolation.
type Policy struct {
	// Level is the DocMDP /P the policy enforces: 1 no changes but
	// validation data and document time-stamps, 2 also form filling and
	// signing, 3 also annotations.
	Level int
	Rules []Rule
}

// judgement is what rules may read: both revisions and the policy.
type judgement struct {
	old, cur   *document
	signedSize int64 // the end of the signed revision
	level      int
}

// PolicyFor returns the policy of DocMDP level p (1, 2 or 3); any other
// value gets level 2, what a signature without certification permits.
func PolicyFor(p int) Policy {
	if p < 1 || p > 3 {
		p = 2
	}
	rules := []Rule{
		{"info", prefixRule("/Info", denied, ReasonInfoChanged)},
		{"encrypt", prefixRule("/Encrypt", denied, ReasonDocMDPViolation)},
		{"metadata", prefixRule("/Root/Metadata", denied, ReasonMetadataChanged)},
		{"xfa", prefixRule("/Root/AcroForm/XFA", denied, ReasonXFAAdded)},
		{"dss", prefixRule("/Root/DSS", allowed, "")},
		{"extensions", prefixRule("/Root/Extensions", allowed, "")},
		{"version", versionDeclared},
		{"sigflags", prefixRule("/Root/AcroForm/SigFlags", allowed, "")},
		{"form_restated", restatedContainer},
		{"acroform_added", acroFormAdded},
		{"signature_field_added", fieldAdded},
		{"page_annots", pageAnnots},
		{"empty_field_signed", fieldSigned},
	}
	if p >= 2 {
		rules = append(rules, Rule{"form_resources", formResources}, Rule{"form_filled", formFilled})
	}
	return Policy{Level: p, Rules: rules}
}

// judge decides every change.
func (p Policy) judge(x *judgement, changes []Change) {
	x.level = p.Level
	for i := range changes {
		c := &changes[i]
		c.Allowed, c.Rule = false, ReasonDocMDPViolation
		for _, r := range p.Rules {
			v, why := r.judge(x, c)
			if v == allowed {
				c.Allowed, c.Rule = true, r.Name
				break
			}
			if v == denied {
				c.Rule = why
				break
			}
		}
	}
}

func prefixRule(prefix string, v verdict, why string) func(*judgement, *Change) (verdict, string) {
	return func(_ *judgement, c *Change) (verdict, string) {
		if c.Path == prefix || strings.HasPrefix(c.Path, prefix+"/") || strings.HasPrefix(c.Path, prefix+"[") {
			return v, why
		}
		return pass, ""
	}
}

// versionDeclared allows the catalog to declare a PDF version (signing
// software such as digitorus/pdfsign does), a name from 1.0 to 2.0.
func versionDeclared(_ *judgement, c *Change) (verdict, string) {
	if c.Path != "/Root/Version" {
		return pass, ""
	}
	if v, ok := c.cur.(Name); ok && len(v) == 3 && v[1] == '.' && (v[0] == '1' && v[2] >= '0' && v[2] <= '7' || v == "2.0") {
		return allowed, ""
	}
	return denied, ReasonDocMDPViolation
}

// restatedContainer allows writing again the catalog, the AcroForm, its
// /Fields, a page and its /Annots: what adding a field rewrites.
func restatedContainer(_ *judgement, c *Change) (verdict, string) {
	if c.Kind != ChangeRestated {
		return pass, ""
	}
	switch {
	case c.Path == "/Root", c.Path == "/Root/AcroForm", c.Path == "/Root/AcroForm/Fields":
		return allowed, ""
	case isPage(c.cur):
		return allowed, ""
	case c.key == "Annots" && isPage(c.curParent):
		return allowed, ""
	}
	return pass, ""
}

// acroFormAdded judges a catalog gaining an AcroForm: only signature
// fields, flags and resources.
func acroFormAdded(x *judgement, c *Change) (verdict, string) {
	if c.Path != "/Root/AcroForm" || c.Kind != ChangeAdded {
		return pass, ""
	}
	form := x.cur.dict(c.curRaw)
	if form == nil {
		return denied, ReasonDocMDPViolation
	}
	for k := range form {
		switch k {
		case "Fields", "SigFlags", "DR", "DA":
		case "XFA":
			return denied, ReasonXFAAdded
		default:
			return denied, ReasonDocMDPViolation
		}
	}
	for _, f := range x.cur.array(form["Fields"]) {
		if v, why := x.newField(f); v != allowed {
			return v, why
		}
	}
	return allowed, ""
}

// fieldAdded judges a new element of the AcroForm's /Fields.
func fieldAdded(x *judgement, c *Change) (verdict, string) {
	if c.Kind != ChangeAdded || c.index < 0 || c.parentKey != "Fields" || !strings.HasPrefix(c.Path, "/Root/AcroForm/Fields[") {
		return pass, ""
	}
	return x.newField(c.curRaw)
}

// newField allows a new signature field whose widgets are widgets, and
// which is signed by a new signature, or else has no visible appearance.
func (x *judgement) newField(raw any) (verdict, string) {
	d := x.cur.dict(raw)
	if d == nil {
		return denied, ReasonDocMDPViolation
	}
	if fieldType(x.cur, d) != "Sig" {
		return denied, ReasonFieldAdded
	}
	widgets := []Dict{d}
	if kids := x.cur.array(d["Kids"]); len(kids) > 0 {
		widgets = widgets[:0]
		for _, k := range kids {
			widgets = append(widgets, x.cur.dict(k))
		}
	}
	for _, w := range widgets {
		if w == nil || (w.name("Subtype") != "Widget") {
			return denied, ReasonSigNotWidget
		}
	}
	return x.fieldValue(d, widgets)
}

// fieldValue judges the value of a new (or newly signed) signature field.
func (x *judgement) fieldValue(field Dict, widgets []Dict) (verdict, string) {
	v := field["V"]
	if x.cur.resolve(v) == nil {
		if x.level < 2 {
			return denied, ReasonDocMDPViolation
		}
		for _, w := range widgets {
			if x.visible(w) {
				return denied, ReasonUnsignedAppearance
			}
		}
		return allowed, ""
	}
	if !x.newSignature(v) {
		return denied, ReasonSignatureReused
	}
	if x.level < 2 && x.cur.dict(v).name("Type") != "DocTimeStamp" {
		return denied, ReasonDocMDPViolation
	}
	return allowed, ""
}

// newSignature reports whether v is a signature dictionary written after
// the signed revision, signing bytes beyond it.
func (x *judgement) newSignature(v any) bool {
	r, ok := v.(Ref)
	if !ok || x.inOld(r.Num) {
		return false
	}
	sd := x.cur.dict(r)
	br, err := byteRange(sd)
	if err != nil {
		return false
	}
	switch sd.name("Type") {
	case "Sig", "DocTimeStamp", "":
	default:
		return false
	}
	return br[2]+br[3] > x.signedSize
}

func (x *judgement) inOld(num int) bool {
	e, ok := x.old.xref[num]
	return ok && e.typ != 0
}

// visible reports whether a widget shows anything, on screen or on
// paper: a non-empty rectangle, not Hidden, and not NoView unless it is
// printed.
func (x *judgement) visible(w Dict) bool {
	f, _ := w.int("F")
	if f&2 != 0 || (f&32 != 0 && f&4 == 0) {
		return false
	}
	r := x.cur.array(w["Rect"])
	if len(r) != 4 {
		return false
	}
	var v [4]float64
	for i, n := range r {
		switch t := x.cur.resolve(n).(type) {
		case int64:
			v[i] = float64(t)
		case float64:
			v[i] = t
		default:
			return true // unreadable: assume a reader draws it
		}
	}
	return math.Abs(v[2]-v[0]) > 0 && math.Abs(v[3]-v[1]) > 0
}

// pageAnnots judges a page's /Annots gaining elements: signature widgets
// as for new fields; at level 3 other annotations that are not widgets.
func pageAnnots(x *judgement, c *Change) (verdict, string) {
	var added []any
	switch {
	case c.Kind == ChangeAdded && c.key == "Annots" && isPage(c.curParent):
		added = x.cur.array(c.curRaw)
		if added == nil {
			return denied, ReasonDocMDPViolation
		}
	case c.Kind == ChangeAdded && c.index >= 0 && c.parentKey == "Annots" && isPage(c.curParent):
		added = []any{c.curRaw}
	default:
		return pass, ""
	}
	for _, a := range added {
		if v, why := x.newAnnot(a); v != allowed {
			return v, why
		}
	}
	return allowed, ""
}

func (x *judgement) newAnnot(raw any) (verdict, string) {
	d := x.cur.dict(raw)
	if d == nil {
		return denied, ReasonDocMDPViolation
	}
	if r, ok := raw.(Ref); !ok || x.inOld(r.Num) {
		return denied, ReasonDocMDPViolation // an old object shown again
	}
	if fieldType(x.cur, d) == "Sig" {
		if d.name("Subtype") != "Widget" {
			return denied, ReasonSigNotWidget
		}
		field := d
		if d["T"] == nil && x.cur.dict(d["Parent"]) != nil {
			field = x.cur.dict(d["Parent"])
		}
		return x.fieldValue(field, []Dict{d})
	}
	if d["FT"] != nil || d.name("Subtype") == "Widget" {
		return denied, ReasonFieldAdded
	}
	if x.level >= 3 {
		return allowed, ""
	}
	return denied, ReasonAnnotationAdded
}

// fieldSigned allows an empty signature field that existed to receive a
// new signature, and its widget the signature's appearance.
func fieldSigned(x *judgement, c *Change) (verdict, string) {
	if c.curParent == nil || fieldType(x.cur, c.curParent) != "Sig" {
		return pass, ""
	}
	if c.oldParent != nil && x.old.resolve(c.oldParent["V"]) != nil {
		return pass, "" // it was signed already
	}
	switch {
	case c.key == "V" && c.Kind == ChangeAdded:
		widgets := []Dict{c.curParent}
		if c.curParent.name("Subtype") != "Widget" {
			widgets = nil
		}
		return x.fieldValue(c.curParent, widgets)
	case (c.key == "AP" || c.key == "AS") && x.newSignature(c.curParent["V"]):
		return allowed, ""
	}
	return pass, ""
}

// formResources allows the AcroForm's default resources and appearance
// to change (signing software adds its font), unless the form asks
// readers to regenerate appearances.
func formResources(x *judgement, c *Change) (verdict, string) {
	if !strings.HasPrefix(c.Path, "/Root/AcroForm/DR") && c.Path != "/Root/AcroForm/DA" {
		return pass, ""
	}
	form := x.cur.dict(x.cur.dict(x.cur.trailer["Root"])["AcroForm"])
	if b, _ := form["NeedAppearances"].(bool); b {
		return denied, ReasonDocMDPViolation
	}
	return allowed, ""
}

// formFilled allows the value of an existing field that is not a
// signature field to change, with its widgets' appearance: keys /V and
// /AS of the field, and /AP down to objects written after the signature
// (an old object changed under /AP could be shown elsewhere too).
func formFilled(x *judgement, c *Change) (verdict, string) {
	for st := c.at; st != nil && st.up != nil; st = st.up {
		parent, _ := st.up.cur.(Dict)
		if parent == nil {
			continue
		}
		if ft := fieldType(x.cur, parent); ft == "" || ft == "Sig" {
			continue
		}
		switch {
		case (st.key == "V" || st.key == "AS") && st == c.at:
			return allowed, ""
		case st.key == "AP" && (st == c.at || (c.curRef != Ref{} && !x.inOld(c.curRef.Num))):
			return allowed, ""
		}
		return pass, ""
	}
	return pass, ""
}

// fieldType returns the field type of d, inherited from its parents.
func fieldType(doc *document, d Dict) Name {
	for i := 0; i < 16 && d != nil; i++ {
		if ft := d.name("FT"); ft != "" {
			return ft
		}
		d = doc.dict(d["Parent"])
	}
	return ""
}

func isPage(v any) bool {
	switch d := v.(type) {
	case Dict:
		return d.name("Type") == "Page"
	}
	return false
}
