package pades

import "maps"

// tagWidget makes a new signature widget part of a tagged document's
// structure (ISO 14289-1, 7.18.1 and 7.18.4): a Form structure element,
// whose only kid is an object reference to the widget, is appended to the
// kids of the tree's top element; the widget's /StructParent is the parent
// tree's next key, and the parent tree maps that key to the Form element.
// It returns the widget's /StructParent, or -1 when the document is not
// tagged or its tree is not one it can extend (then the widget stays out
// of the tree, as in an untagged file).
func tagWidget(doc *document, catalog Dict, rewrite func(Ref, any), next func() Ref, widget, page Ref, desc string) int64 {
	rootRef, ok := catalog["StructTreeRoot"].(Ref)
	root := doc.dict(rootRef)
	if !ok || root == nil {
		return -1
	}
	key, ok := root.int("ParentTreeNextKey")
	if !ok || key < 0 {
		return -1
	}
	ptRef, ok := root["ParentTree"].(Ref)
	pt := doc.dict(ptRef)
	if !ok || pt == nil || pt["Kids"] != nil {
		return -1 // a parent tree of more than one node
	}
	top, ok := root["K"].(Ref)
	topDict := doc.dict(top)
	if !ok || topDict == nil {
		return -1
	}
	form := next()
	elem := Dict{
		"Type": Name("StructElem"), "S": Name("Form"), "P": top, "Pg": page,
		"K": Dict{"Type": Name("OBJR"), "Obj": widget, "Pg": page},
	}
	if desc != "" {
		elem["Alt"] = textString(desc)
	}
	rewrite(form, elem)

	nt := maps.Clone(topDict)
	switch k := doc.resolve(topDict["K"]).(type) {
	case Array:
		nt["K"] = append(append(Array{}, k...), form)
	case nil:
		nt["K"] = form
	default:
		nt["K"] = Array{topDict["K"], form}
	}
	rewrite(top, nt)

	npt := maps.Clone(pt)
	npt["Nums"] = append(append(Array{}, doc.array(pt["Nums"])...), key, form)
	rewrite(ptRef, npt)

	nr := maps.Clone(root)
	nr["ParentTreeNextKey"] = key + 1
	rewrite(rootRef, nr)
	return key
}
