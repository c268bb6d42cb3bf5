package seal_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"faldone/internal/faldone"
	"faldone/internal/pades"
	"faldone/internal/pdftest"
	"faldone/internal/seal"
	"faldone/internal/testenv"
)

// TestSealKeepsTheTags seals a tagged letter and reads the result back with
// poppler and qpdf: the seal's widget has a localised /TU and a
// /StructParent, the parent tree maps that key to a Form element whose kid
// is an object reference to the widget, the Form element closes the
// document's structure, and the seal still validates.
func TestSealKeepsTheTags(t *testing.T) {
	r := newRenderer(t)
	key, caFile := devSeal(t)
	url, tsaChain := testenv.StartTSA(t)
	tr := newTrust(t, caFile, tsaChain)
	s := &seal.Sealer{Key: key, TSA: &pades.TSA{URL: url, Timeout: 10 * time.Second, Retries: 1}, Logger: discard}
	rendered := render(t, r, "loiano", faldone.KindApprovazione)
	in := append([]byte{}, rendered.PDF...)
	out, facts, err := sealLocked(s, rendered)
	if err != nil {
		t.Fatal(err)
	}
	checkSealed(t, tr, key, in, out, facts, pades.LevelBT, false)

	before, after := pdftest.StructTree(t, in), pdftest.StructTree(t, out)
	if n, m := len(before.Kids), len(after.Kids); m != n+1 || after.Kids[m-1].Type != "Form" {
		t.Fatalf("sealed structure: %d top elements (before %d), last %s", m, n, after.Kids[m-1].Type)
	}
	if f := after.Kids[len(after.Kids)-1]; len(f.Kids) != 1 || f.Kids[0].Type != "Object" {
		t.Errorf("poppler reads the Form element's kids as %v", f.Kids)
	}

	objs := pdftest.Objects(t, out)
	var widget, form map[string]any
	var widgetRef, formRef string
	var root map[string]any
	for k, v := range objs {
		d, _ := v.(map[string]any)
		switch {
		case d["/FT"] == "/Sig" && d["/Subtype"] == "/Widget":
			widget, widgetRef = d, strings.TrimPrefix(k, "obj:")
		case d["/S"] == "/Form":
			form, formRef = d, strings.TrimPrefix(k, "obj:")
		case d["/Type"] == "/StructTreeRoot":
			root = d
		}
	}
	if widget == nil || form == nil || root == nil {
		t.Fatalf("widget %v, form element %v, tree root %v", widget, form, root)
	}
	want := "u:Sigillo elettronico di " + key.Leaf().Subject.CommonName
	if widget["/TU"] != want {
		t.Errorf("widget /TU = %v, want %q", widget["/TU"], want)
	}
	if objr, _ := form["/K"].(map[string]any); objr == nil || objr["/Type"] != "/OBJR" || objr["/Obj"] != widgetRef {
		t.Errorf("Form element's kid = %v, want an OBJR to %s", form["/K"], widgetRef)
	}
	sp := fmt.Sprint(widget["/StructParent"])
	pt, _ := objs["obj:"+fmt.Sprint(root["/ParentTree"])].(map[string]any)
	nums, _ := pt["/Nums"].([]any)
	found := false
	for i := 0; i+1 < len(nums); i += 2 {
		if fmt.Sprint(nums[i]) == sp && nums[i+1] == formRef {
			found = true
		}
	}
	if widget["/StructParent"] == nil || !found {
		t.Errorf("widget /StructParent %s does not lead to the Form element %s in %v", sp, formRef, nums)
	}
	if got, want := fmt.Sprint(root["/ParentTreeNextKey"]), fmt.Sprint(pdftest.Pages(t, out)+1); got != want {
		t.Errorf("/ParentTreeNextKey = %s, want %s", got, want)
	}
	pdftest.QPDFCheck(t, out)
}
