-- API keys (package auth). Not archive records: a key's row is updated
-- when it is used and when it is revoked, and never deleted. Only the
-- SHA-256 of a key is stored.

CREATE TABLE api_keys (
	id           text        PRIMARY KEY,
	hash         bytea       NOT NULL UNIQUE CHECK (length(hash) = 32),
	name         text        NOT NULL CHECK (name <> ''),
	role         text        NOT NULL CHECK (role IN ('admin', 'staff', 'comune', 'auditor')),
	comune       text        CHECK ((role = 'comune') = (comune IS NOT NULL)),
	created_at   timestamptz NOT NULL,
	last_used_at timestamptz,
	revoked_at   timestamptz
);

CREATE TRIGGER api_keys_no_delete BEFORE DELETE ON api_keys
	FOR EACH ROW EXECUTE FUNCTION faldone_append_only();
