package batch

import (
	"archive/zip"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"faldone/internal/faldone"
)

// WriteCSV writes the results of a batch's items as CSV: seq, state,
// document_id, comune, sha256, problem code and detail.
func (s *Service) WriteCSV(ctx context.Context, id string, w io.Writer) error {
	items, err := s.Items(ctx, id)
	if err != nil {
		return err
	}
	return writeCSV(w, items)
}

func writeCSV(w io.Writer, items []Item) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"seq", "state", "document_id", "comune", "sha256", "problem", "detail"})
	for _, it := range items {
		var code, detail string
		if it.Problem != nil {
			code, detail = it.Problem.Code, it.Problem.Detail
			for _, f := range it.Problem.Errors {
				detail += "; " + f.Path + ": " + f.Message
			}
		}
		cw.Write([]string{strconv.Itoa(it.Seq), it.State, it.DocumentID, it.Comune, it.SHA256, code, detail})
	}
	cw.Flush()
	return cw.Error()
}

// WriteZIP writes a ZIP of a finished batch: the PDF of every item done,
// named SEQ-COMUNE-ID.pdf, and results.csv. It returns ECONFLICT while
// the batch is running.
func (s *Service) WriteZIP(ctx context.Context, id string, w io.Writer) error {
	b, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if !b.Over() {
		return faldone.Errorf(faldone.ECONFLICT, "batch %s is still running (%d of %d items left): the ZIP is ready when it is done", id, b.Queued, b.Total)
	}
	items, err := s.Items(ctx, id)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	mod := time.Now()
	if b.Finished != nil {
		mod = *b.Finished
	}
	for _, it := range items {
		if it.State != ItemDone {
			continue
		}
		_, pdf, err := s.Docs.PDF(ctx, it.DocumentID, 1)
		if err != nil {
			return fmt.Errorf("zip of batch %s: item %d: %w", id, it.Seq, err)
		}
		// PDFs are compressed already: store them.
		f, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("%05d-%s-%s.pdf", it.Seq, it.Comune, it.DocumentID), Method: zip.Store, Modified: mod})
		if err != nil {
			return err
		}
		if _, err := f.Write(pdf); err != nil {
			return err
		}
	}
	f, err := zw.CreateHeader(&zip.FileHeader{Name: "results.csv", Method: zip.Deflate, Modified: mod})
	if err != nil {
		return err
	}
	if err := writeCSV(f, items); err != nil {
		return err
	}
	return zw.Close()
}
