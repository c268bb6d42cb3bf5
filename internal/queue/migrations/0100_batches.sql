-- Batches (package batch): many inputs of one kind, one item each. The
-- SQL is the same on SQLite and PostgreSQL. Times are RFC 3339 UTC text.

CREATE TABLE batches (
	id              TEXT PRIMARY KEY,
	kind            TEXT NOT NULL,
	lang            TEXT NOT NULL,
	actor           TEXT NOT NULL,
	total           INTEGER NOT NULL CHECK (total > 0),
	remaining       INTEGER NOT NULL CHECK (remaining >= 0), -- items still queued
	state           TEXT NOT NULL CHECK (state IN ('running', 'done', 'cancelled')),
	idempotency_key TEXT,
	request_sha256  TEXT NOT NULL,
	created_at      TEXT NOT NULL,
	finished_at     TEXT
);
CREATE UNIQUE INDEX batches_idempotency ON batches (actor, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- One item: its input, the id its document gets (chosen when the batch is
-- made, so that a job run twice archives the document once) and its result.
CREATE TABLE batch_items (
	batch_id   TEXT NOT NULL REFERENCES batches (id),
	seq        INTEGER NOT NULL CHECK (seq >= 1),
	doc_id     TEXT NOT NULL UNIQUE,
	input      TEXT NOT NULL,
	state      TEXT NOT NULL CHECK (state IN ('queued', 'done', 'failed', 'cancelled')),
	comune     TEXT,
	sha256     TEXT,
	problem    TEXT,
	updated_at TEXT NOT NULL,
	PRIMARY KEY (batch_id, seq)
);
CREATE INDEX batch_items_state ON batch_items (batch_id, state);

-- Answers of POSTs sent with an Idempotency-Key, per caller and route.
CREATE TABLE idempotency_keys (
	scope          TEXT NOT NULL,
	key            TEXT NOT NULL,
	request_sha256 TEXT NOT NULL,
	status         INTEGER NOT NULL,
	location       TEXT NOT NULL,
	body           TEXT NOT NULL,
	created_at     TEXT NOT NULL,
	PRIMARY KEY (scope, key)
);
