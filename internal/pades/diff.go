package pades

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Kinds of Change.
const (
	ChangeAdded    = "added"    // a key or array element that was not there
	ChangeRemoved  = "removed"  // a key or array element that is gone
	ChangeModified = "modified" // a value, a type or stream data that differs
	ChangeRestated = "restated" // a signed object written again, even unchanged
)

// Change is one difference between a signed revision and the file as a
// reader sees it, found by walking both object graphs from the trailer.
type Change struct {
	// Path leads from the trailer to the value: "/Root/Pages/Kids[0]/Contents".
	Path string
	// Object is the indirect object holding the value ("12 0 R"), in the
	// file when it is there, else in the signed revision; for an object
	// added or removed by reference, that object.
	Object string
	// Kind is one of the Change constants.
	Kind string
	// Allowed is true when a rule of the policy allows the change.
	Allowed bool
	// Rule names the rule that allowed the change, or the reason it is
	// forbidden (ReasonDocMDPViolation or a more precise Reason).
	Rule string

	key       Name // the last step of Path, when it is a dictionary key
	index     int  // the last step of Path, when it is an array index; else -1
	old, cur  any  // the values, resolved (nil when absent)
	curRaw    any  // the value in the file before resolving
	oldParent Dict // the dictionaries holding key (or the array), when any
	curParent Dict
	parentKey Name  // the key of the array holding index
	at        *step // where the change is, with its ancestors
	curRef    Ref   // the indirect object of the file holding the value
}

// maxDiffVisits bounds the values compared by one analysis, all its
// signed revisions together.
const maxDiffVisits = 1 << 18

// differ compares the object graphs of a signed revision (old) and of
// the file (cur).
type differ struct {
	old, cur *document
	restated map[int]bool // numbers of old objects written again by later updates
	seen     map[[3]int]bool
	visits   int
	changes  []Change
	overflow bool
}

type step struct {
	key                  Name
	index                int
	oldParent, curParent Dict
	parentKey            Name
	oldObj, curObj       Ref   // the enclosing indirect objects
	up                   *step // the step of the enclosing dictionary or array
	cur                  any   // the file's value at this step, once resolved
}

func (df *differ) add(kind, path string, st step, ov, nv any) {
	if len(df.changes) >= 256 {
		df.overflow = true
		return
	}
	obj := st.curObj
	if obj == (Ref{}) {
		obj = st.oldObj
	}
	if r, ok := nv.(Ref); ok && kind == ChangeAdded {
		obj = r // name what was added, not where
	}
	if r, ok := ov.(Ref); ok && kind == ChangeRemoved {
		obj = r // name what was removed
	}
	name := "trailer"
	if obj != (Ref{}) {
		name = fmt.Sprintf("%d %d R", obj.Num, obj.Gen)
	}
	df.changes = append(df.changes, Change{
		Path: path, Object: name, Kind: kind, key: st.key, index: st.index,
		old: df.old.resolve(ov), cur: df.cur.resolve(nv), curRaw: nv, oldParent: st.oldParent, curParent: st.curParent, parentKey: st.parentKey,
		curRef: st.curObj, at: &st,
	})
}

func (df *differ) walk(ov, nv any, path string, st step, depth int) {
	df.visits++
	if df.visits > maxDiffVisits || depth > maxDepth {
		df.overflow = true
		return
	}
	or, oIsRef := ov.(Ref)
	nr, nIsRef := nv.(Ref)
	if oIsRef || nIsRef {
		pair := [3]int{-1, -1, zone(path)}
		if oIsRef {
			pair[0] = or.Num
			st.oldObj = or
			ov, _ = df.old.get(or.Num)
		}
		if nIsRef {
			pair[1] = nr.Num
			st.curObj = nr
			nv, _ = df.cur.get(nr.Num)
		}
		// Only a pair of indirect objects is compared once, within one
		// zone of the policy: a direct value has no identity, and two of
		// them may meet the same object (two pages' inline resources
		// replaced by one shared object); and an object reached first
		// where changes are allowed (the /DSS) is compared again where
		// they are not (a page).
		if oIsRef && nIsRef {
			if df.seen[pair] {
				return
			}
			df.seen[pair] = true
		}
		if oIsRef && nIsRef && or.Num == nr.Num && df.restated[nr.Num] && ov != nil && shallowEqual(ov, nv) {
			df.add(ChangeRestated, path, st, ov, nv)
		}
	}
	switch o := ov.(type) {
	case Dict:
		n, ok := nv.(Dict)
		if !ok {
			df.add(ChangeModified, path, st, ov, nv)
			return
		}
		df.walkDict(o, n, path, st, depth)
	case *Stream:
		n, ok := nv.(*Stream)
		if !ok {
			df.add(ChangeModified, path, st, ov, nv)
			return
		}
		df.walkDict(o.Dict, n.Dict, path, st, depth)
		if !bytes.Equal(o.Raw, n.Raw) {
			df.add(ChangeModified, path, st, ov, nv)
		}
	case Array:
		n, ok := nv.(Array)
		if !ok {
			df.add(ChangeModified, path, st, ov, nv)
			return
		}
		here := st
		here.cur = n
		for i := range max(len(o), len(n)) {
			p := path + "[" + strconv.Itoa(i) + "]"
			es := step{key: "", index: i, oldParent: st.oldParent, curParent: st.curParent, parentKey: st.key, oldObj: st.oldObj, curObj: st.curObj, up: &here}
			switch {
			case i >= len(o):
				df.add(ChangeAdded, p, es, nil, n[i])
			case i >= len(n):
				df.add(ChangeRemoved, p, es, o[i], nil)
			default:
				df.walk(o[i], n[i], p, es, depth+1)
			}
		}
	default:
		if ov == nil && nv == nil {
			return
		}
		if ov == nil {
			df.add(ChangeAdded, path, st, nil, nv)
			return
		}
		if nv == nil {
			df.add(ChangeRemoved, path, st, ov, nil)
			return
		}
		if !equalObj(ov, nv) {
			df.add(ChangeModified, path, st, ov, nv)
		}
	}
}

func (df *differ) walkDict(o, n Dict, path string, st step, depth int) {
	keys := make([]Name, 0, len(o)+len(n))
	for k := range o {
		keys = append(keys, k)
	}
	for k := range n {
		if _, ok := o[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b Name) int {
		if ra, rb := keyRank(a), keyRank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(string(a), string(b))
	})
	here := st
	here.cur = n
	for _, k := range keys {
		p := path + "/" + string(k)
		ks := step{key: k, index: -1, oldParent: o, curParent: n, oldObj: st.oldObj, curObj: st.curObj, up: &here}
		ov, inOld := o[k]
		nv, inNew := n[k]
		switch {
		case !inOld || (ov == nil && nv != nil):
			df.add(ChangeAdded, p, ks, nil, nv)
		case !inNew || (nv == nil && ov != nil):
			df.add(ChangeRemoved, p, ks, ov, nil)
		default:
			df.walk(ov, nv, p, ks, depth+1)
		}
	}
}

// zone returns which part of the policy path falls in: where the rules
// allow any change (validation data, form resources, extensions), or
// anywhere else.
func zone(path string) int {
	for i, p := range []string{"/Root/DSS", "/Root/AcroForm/DR", "/Root/Extensions"} {
		if path == p || strings.HasPrefix(path, p+"/") || strings.HasPrefix(path, p+"[") {
			return i + 1
		}
	}
	return 0
}

// keyRankFirst is the key walked first, the page tree ("Pages"); tests
// change it to show the judgement does not depend on the order.
var keyRankFirst Name = "Pages"

// keyRank orders the keys of a dictionary for the walk, so that paths
// name objects the way a reader reaches them: the page tree first, back
// references (a widget's page, a node's parent) last.
func keyRank(k Name) int {
	switch k {
	case keyRankFirst, "Kids":
		return 0
	case "P", "Parent":
		return 2
	}
	return 1
}

// shallowEqual compares two objects without following references.
func shallowEqual(a, b any) bool { return equalObj(a, b) }
