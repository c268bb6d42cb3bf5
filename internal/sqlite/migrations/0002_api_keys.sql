-- API keys (package auth). Not archive records: a key's row is updated
-- when it is used and when it is revoked, and never deleted. Only the
-- SHA-256 of a key is stored. Times are RFC 3339 UTC text.

CREATE TABLE api_keys (
	id           TEXT PRIMARY KEY,
	hash         BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
	name         TEXT NOT NULL CHECK (name <> ''),
	role         TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'comune', 'auditor')),
	comune       TEXT CHECK ((role = 'comune') = (comune IS NOT NULL)),
	created_at   TEXT NOT NULL,
	last_used_at TEXT,
	revoked_at   TEXT
);

CREATE TRIGGER api_keys_no_delete BEFORE DELETE ON api_keys
BEGIN
	SELECT RAISE(ABORT, 'faldone: api_keys are revoked, not deleted');
END;
