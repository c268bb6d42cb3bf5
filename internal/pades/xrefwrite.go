package pades

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"sort"
)

// nextID is the trailer /ID of the update: the first element, the file's
// permanent identifier, kept (ISO 32000-1 14.4, and what PDF/A readers
// follow), the second one new for this revision: the first 16 bytes of
// the SHA-256 of the previous file and the new signature dictionary, so
// that the same signing gives the same bytes. An /ID that is not two
// strings is kept as it is.
func (up *update) nextID(old any) any {
	a := up.doc.array(old)
	if len(a) != 2 {
		return old
	}
	first, ok := up.doc.resolve(a[0]).(String)
	if _, ok2 := up.doc.resolve(a[1]).(String); !ok || !ok2 {
		return old
	}
	h := sha256.New()
	h.Write(up.doc.data)
	h.Write([]byte(up.sigDict))
	return Array{first, String(h.Sum(nil)[:16])}
}

// writeXref writes the cross-reference section of the update, in the
// same form (table or stream) as the document's newest section, and the
// trailer ending the revision.
func (up *update) writeXref(b *bytes.Buffer, offsets map[int]int64) error {
	trailer := Dict{"Size": int64(up.size), "Root": up.doc.trailer["Root"], "Prev": up.doc.startxref}
	if v, ok := up.doc.trailer["Info"]; ok {
		trailer["Info"] = v
	}
	if v, ok := up.doc.trailer["ID"]; ok {
		trailer["ID"] = up.nextID(v)
	}
	gens := map[int]int{}
	for _, p := range up.objects {
		gens[p.ref.Num] = p.ref.Gen
	}
	start := int64(b.Len())
	if up.xrefNum != 0 {
		offsets[up.xrefNum] = start
	}
	nums := make([]int, 0, len(offsets))
	for n := range offsets {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	// Group consecutive object numbers into subsections.
	var groups [][]int
	for i, n := range nums {
		if i == 0 || n != nums[i-1]+1 {
			groups = append(groups, nil)
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], n)
	}
	if up.xrefNum == 0 {
		b.WriteString("xref\n")
		for _, g := range groups {
			fmt.Fprintf(b, "%d %d\n", g[0], len(g))
			for _, n := range g {
				fmt.Fprintf(b, "%010d %05d n \n", offsets[n], gens[n])
			}
		}
		b.WriteString("trailer\n")
		if err := writeObject(b, trailer); err != nil {
			return err
		}
		fmt.Fprintf(b, "\nstartxref\n%d\n%%%%EOF\n", start)
		return nil
	}
	var index Array
	var rows []byte
	for _, g := range groups {
		index = append(index, int64(g[0]), int64(len(g)))
		for _, n := range g {
			o := offsets[n]
			rows = append(rows, 1, byte(o>>24), byte(o>>16), byte(o>>8), byte(o), byte(gens[n]>>8), byte(gens[n]))
		}
	}
	if start >= 1<<32 {
		return fmt.Errorf("write xref: file too large")
	}
	trailer["Type"] = Name("XRef")
	trailer["W"] = Array{int64(1), int64(4), int64(2)}
	trailer["Index"] = index
	trailer["Length"] = int64(len(rows))
	fmt.Fprintf(b, "%d 0 obj\n", up.xrefNum)
	if err := writeObject(b, trailer); err != nil {
		return err
	}
	b.WriteString("\nstream\n")
	b.Write(rows)
	fmt.Fprintf(b, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", start)
	return nil
}
