package pades

import "sort"

// Reader is read-only access to the newest revision of a PDF through this
// package's parser, for checks made outside it (the PDF/A checks of
// internal/pdftest/pdfa). It is not safe for concurrent use.
type Reader struct{ d *document }

// Open parses the cross-reference chain of pdf, with the same limits as
// Inspect.
func Open(pdf []byte) (*Reader, error) {
	d, err := parseDocument(pdf)
	if err != nil {
		return nil, err
	}
	return &Reader{d: d}, nil
}

// Trailer is the newest trailer dictionary (for a cross-reference stream,
// its dictionary).
func (r *Reader) Trailer() Dict { return r.d.trailer }

// Version is the version the file declares: the header's, or the
// catalog's /Version when later.
func (r *Reader) Version() string { return pdfVersion(r.d, r.d.dict(r.d.trailer["Root"])) }

// Resolve follows indirect references; nil for a free or missing object.
func (r *Reader) Resolve(v any) any { return r.d.resolve(v) }

// Dict resolves v to a dictionary (a stream's dictionary), or nil.
func (r *Reader) Dict(v any) Dict { return r.d.dict(v) }

// Array resolves v to an array, or nil.
func (r *Reader) Array(v any) Array { return r.d.array(v) }

// Object is object num, or nil with the error that kept it from being read.
func (r *Reader) Object(num int) (any, error) { return r.d.get(num) }

// Objects are the numbers of the objects in use, ascending.
func (r *Reader) Objects() []int {
	var nums []int
	for n, e := range r.d.xref {
		if e.typ != 0 && n > 0 {
			nums = append(nums, n)
		}
	}
	sort.Ints(nums)
	return nums
}

// Decode returns the decoded data of a stream (no filter, or FlateDecode
// with PNG predictors).
func (r *Reader) Decode(s *Stream) ([]byte, error) { return r.d.decode(s) }
