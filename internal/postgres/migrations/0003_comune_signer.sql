-- The signer of a comune's countersigned version, beside the body (which
-- holds it in full, in seal.comune_signer) for lookups: the versions one
-- certificate signed, the versions archived from a signer that was not
-- trusted (on the development default). NULL on other versions.

ALTER TABLE records
	ADD COLUMN signer_sha256 text CHECK (signer_sha256 ~ '^[0-9a-f]{64}$'),
	ADD COLUMN signer_trusted boolean,
	ADD CONSTRAINT records_signer_pair CHECK ((signer_sha256 IS NULL) = (signer_trusted IS NULL));
CREATE INDEX records_signer ON records (signer_sha256, leaf_index) WHERE signer_sha256 IS NOT NULL;
