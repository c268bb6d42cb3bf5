-- State of the web pages shared by every instance: sessions (keyed by the
-- SHA-256 of their id, holding the SHA-256 of the API key, never the key)
-- and the secret of the CSRF tokens. Not archive records: rows are
-- updated and deleted. expires_at is Unix milliseconds, NULL for never.

CREATE TABLE web_state (
	key        TEXT    PRIMARY KEY,
	value      BLOB    NOT NULL,
	expires_at INTEGER
);
CREATE INDEX web_state_expires ON web_state (expires_at) WHERE expires_at IS NOT NULL;
