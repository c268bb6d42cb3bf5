-- State of the web pages shared by every instance: sessions (keyed by the
-- SHA-256 of their id, holding the SHA-256 of the API key, never the key)
-- and the secret of the CSRF tokens. Not archive records: rows are
-- updated and deleted.

CREATE TABLE web_state (
	key        text        PRIMARY KEY,
	value      bytea       NOT NULL,
	expires_at timestamptz
);
CREATE INDEX web_state_expires ON web_state (expires_at) WHERE expires_at IS NOT NULL;
