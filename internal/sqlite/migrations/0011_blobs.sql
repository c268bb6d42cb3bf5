-- The PDFs, by SHA-256, in the database with the records that name them:
-- a PDF is inserted in the transaction that inserts its record, so it is
-- durable exactly when the record is, with the group's one WAL fsync.
-- Archives written before kept each PDF as a file under blobs/, where it
-- is still read. Like the records, a PDF is never changed nor removed.

CREATE TABLE blobs (
	sha256 TEXT PRIMARY KEY CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
	data   BLOB NOT NULL
);

CREATE TRIGGER blobs_no_update BEFORE UPDATE ON blobs
BEGIN SELECT RAISE(ABORT, 'blobs are append-only: a PDF is never changed'); END;
CREATE TRIGGER blobs_no_delete BEFORE DELETE ON blobs
BEGIN SELECT RAISE(ABORT, 'blobs are append-only: a PDF is never changed'); END;
