-- Records, PDFs, the audit log and its checkpoints. Every table is
-- append-only: triggers raise on UPDATE, DELETE and TRUNCATE; a correction
-- is a new version.

CREATE FUNCTION faldone_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'faldone: % is append-only: % refused (a correction is a new version)', TG_TABLE_NAME, TG_OP
		USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TABLE records (
	leaf_index bigint PRIMARY KEY CHECK (leaf_index >= 0),
	id         text   NOT NULL,
	version    int    NOT NULL CHECK (version >= 1),
	comune     text   NOT NULL,
	sha256     text   NOT NULL,
	body       bytea  NOT NULL, -- faldone.CanonicalRecord
	UNIQUE (id, version)
);
CREATE INDEX records_comune ON records (comune, leaf_index);
CREATE INDEX records_sha256 ON records (sha256, leaf_index);

CREATE TABLE blobs (
	sha256 text  PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
	data   bytea NOT NULL
);

-- Perfect-subtree nodes of the Merkle tree (see package audit); level 0
-- holds the leaf hashes.
CREATE TABLE audit_nodes (
	level smallint NOT NULL CHECK (level >= 0),
	idx   bigint   NOT NULL CHECK (idx >= 0),
	hash  bytea    NOT NULL CHECK (length(hash) = 32),
	PRIMARY KEY (level, idx)
);

-- The log size, the only row ever updated; appenders lock it FOR UPDATE.
CREATE TABLE audit_head (
	id   int    PRIMARY KEY CHECK (id = 1),
	size bigint NOT NULL CHECK (size >= 0)
);
INSERT INTO audit_head (id, size) VALUES (1, 0);

CREATE TABLE checkpoints (
	seq     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	size    bigint NOT NULL CHECK (size >= 0),
	note    bytea  NOT NULL,
	created timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER records_append_only BEFORE UPDATE OR DELETE ON records
	FOR EACH ROW EXECUTE FUNCTION faldone_append_only();
CREATE TRIGGER records_no_truncate BEFORE TRUNCATE ON records
	FOR EACH STATEMENT EXECUTE FUNCTION faldone_append_only();
CREATE TRIGGER blobs_append_only BEFORE UPDATE OR DELETE ON blobs
	FOR EACH ROW EXECUTE FUNCTION faldone_append_only();
CREATE TRIGGER blobs_no_truncate BEFORE TRUNCATE ON blobs
	FOR EACH STATEMENT EXECUTE FUNCTION faldone_append_only();
CREATE TRIGGER audit_nodes_append_only BEFORE UPDATE OR DELETE ON audit_nodes
	FOR EACH ROW EXECUTE FUNCTION faldone_append_only();
CREATE TRIGGER audit_nodes_no_truncate BEFORE TRUNCATE ON audit_nodes
	FOR EACH STATEMENT EXECUTE FUNCTION faldone_append_only();
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
	FOR EACH ROW EXECUTE FUNCTION faldone_append_only();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
	FOR EACH STATEMENT EXECUTE FUNCTION faldone_append_only();

CREATE FUNCTION faldone_head_grows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP <> 'UPDATE' OR NEW.id <> OLD.id OR NEW.size < OLD.size THEN
		RAISE EXCEPTION 'faldone: audit_head: the log size only grows (% refused)', TG_OP
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER audit_head_grows BEFORE UPDATE OR DELETE ON audit_head
	FOR EACH ROW EXECUTE FUNCTION faldone_head_grows();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
	FOR EACH STATEMENT EXECUTE FUNCTION faldone_append_only();

-- A record takes the next leaf: the one at the log size.
CREATE FUNCTION faldone_leaf_in_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.leaf_index <> (SELECT size FROM audit_head WHERE id = 1) THEN
		RAISE EXCEPTION 'faldone: records: leaf_index % is not the log size', NEW.leaf_index
			USING ERRCODE = 'check_violation';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER records_leaf_in_order BEFORE INSERT ON records
	FOR EACH ROW EXECUTE FUNCTION faldone_leaf_in_order();
