package archive

import "context"

// Blobs is an object store that keeps an archive's PDFs by SHA-256 instead
// of the engine's own blob storage (package s3). An engine puts a PDF
// before the transaction that records it, so a record never names an
// absent blob.
type Blobs interface {
	// Put stores data, whose SHA-256 is sum, durably; when the object
	// exists it checks its content instead.
	Put(ctx context.Context, sum string, data []byte) error
	// Get returns the bytes stored under sum, or ENOTFOUND.
	Get(ctx context.Context, sum string) ([]byte, error)
	// String names the store in messages.
	String() string
}
