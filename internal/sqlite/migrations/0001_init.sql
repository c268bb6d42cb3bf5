-- Records, the audit log and its checkpoints. Every table is append-only:
-- triggers abort any UPDATE or DELETE, a correction is a new version.

CREATE TABLE records (
	leaf_index INTEGER PRIMARY KEY CHECK (leaf_index >= 0),
	id         TEXT    NOT NULL,
	version    INTEGER NOT NULL CHECK (version >= 1),
	comune     TEXT    NOT NULL,
	sha256     TEXT    NOT NULL,
	body       BLOB    NOT NULL, -- faldone.CanonicalRecord
	UNIQUE (id, version)
);
CREATE INDEX records_comune ON records (comune, leaf_index);
CREATE INDEX records_sha256 ON records (sha256, leaf_index);

-- Perfect-subtree nodes of the Merkle tree (see package audit); level 0
-- holds the leaf hashes.
CREATE TABLE audit_nodes (
	level INTEGER NOT NULL CHECK (level >= 0),
	idx   INTEGER NOT NULL CHECK (idx >= 0),
	hash  BLOB    NOT NULL CHECK (length(hash) = 32),
	PRIMARY KEY (level, idx)
) WITHOUT ROWID;

-- The log size, the only row ever updated; it only grows.
CREATE TABLE audit_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	size INTEGER NOT NULL CHECK (size >= 0)
);
INSERT INTO audit_head (id, size) VALUES (1, 0);

CREATE TABLE checkpoints (
	seq     INTEGER PRIMARY KEY AUTOINCREMENT,
	size    INTEGER NOT NULL CHECK (size >= 0),
	note    BLOB    NOT NULL,
	created TEXT    NOT NULL
);

CREATE TRIGGER records_no_update BEFORE UPDATE ON records
BEGIN SELECT RAISE(ABORT, 'records are append-only: a correction is a new version'); END;
CREATE TRIGGER records_no_delete BEFORE DELETE ON records
BEGIN SELECT RAISE(ABORT, 'records are append-only: a correction is a new version'); END;
CREATE TRIGGER records_leaf_in_order BEFORE INSERT ON records
WHEN NEW.leaf_index <> (SELECT size FROM audit_head WHERE id = 1)
BEGIN SELECT RAISE(ABORT, 'records: leaf_index must be the log size'); END;

CREATE TRIGGER audit_nodes_no_update BEFORE UPDATE ON audit_nodes
BEGIN SELECT RAISE(ABORT, 'audit_nodes are append-only'); END;
CREATE TRIGGER audit_nodes_no_delete BEFORE DELETE ON audit_nodes
BEGIN SELECT RAISE(ABORT, 'audit_nodes are append-only'); END;

CREATE TRIGGER audit_head_grow_only BEFORE UPDATE ON audit_head
WHEN NEW.id <> OLD.id OR NEW.size < OLD.size
BEGIN SELECT RAISE(ABORT, 'audit_head: the log size only grows'); END;
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN SELECT RAISE(ABORT, 'audit_head: the log size only grows'); END;

CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
