-- Webhooks (package webhook): subscriptions, the events they are sent,
-- one delivery per event and subscription, and every attempt of it. The
-- SQL is the same on SQLite and PostgreSQL. Times are RFC 3339 UTC text.

CREATE TABLE webhook_subscriptions (
	id          TEXT PRIMARY KEY,
	url         TEXT NOT NULL,
	events      TEXT NOT NULL, -- space-separated event types, or *
	secret      TEXT NOT NULL, -- whsec_ + base64, the Standard Webhooks form
	description TEXT NOT NULL,
	created_at  TEXT NOT NULL,
	disabled_at TEXT
);

-- An event, sent with the same webhook-id to every subscription and on
-- every attempt.
CREATE TABLE webhook_events (
	id         TEXT PRIMARY KEY,
	type       TEXT NOT NULL,
	payload    TEXT NOT NULL, -- the exact body sent
	created_at TEXT NOT NULL
);

CREATE TABLE webhook_deliveries (
	id              TEXT PRIMARY KEY,
	event_id        TEXT NOT NULL REFERENCES webhook_events (id),
	subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id),
	state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	created_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL,
	UNIQUE (event_id, subscription_id)
);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, created_at);

CREATE TABLE webhook_attempts (
	delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id),
	attempt     INTEGER NOT NULL,
	at          TEXT NOT NULL,
	status      INTEGER NOT NULL, -- HTTP status, 0 when none came
	error       TEXT NOT NULL,
	duration_ms INTEGER NOT NULL,
	PRIMARY KEY (delivery_id, attempt)
);

-- How far into the archive's log the events of documents have been made:
-- the next leaf index to read.
CREATE TABLE webhook_cursor (
	id        INTEGER PRIMARY KEY CHECK (id = 1),
	next_leaf INTEGER NOT NULL
);
