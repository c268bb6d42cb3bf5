package sqlite

import "context"

// writeBlob stores a PDF durably in the object store when there is one,
// else in the blob directory, before the transaction that records it.
func (a *Archive) writeBlob(ctx context.Context, sum string, pdf []byte) error {
	if a.Objects != nil {
		return a.Objects.Put(ctx, sum, pdf)
	}
	return a.blobs.put(sum, pdf)
}

// getBlob reads a PDF from where putBlob stores it.
func (a *Archive) getBlob(ctx context.Context, sum string) ([]byte, error) {
	if a.Objects != nil {
		return a.Objects.Get(ctx, sum)
	}
	return a.blobs.get(sum)
}

// blobName names where a PDF is kept, for messages.
func (a *Archive) blobName(sum string) string {
	if a.Objects != nil {
		return a.Objects.String() + "/" + sum
	}
	return a.blobs.path(sum)
}
