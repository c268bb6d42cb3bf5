-- The signer of a comune's countersigned version, beside the body (which
-- holds it in full, in seal.comune_signer) for lookups: the versions one
-- certificate signed, the versions archived from a signer that was not
-- trusted (on the development default). NULL on other versions.

ALTER TABLE records ADD COLUMN signer_sha256 TEXT
	CHECK (signer_sha256 IS NULL OR (length(signer_sha256) = 64 AND signer_sha256 NOT GLOB '*[^0-9a-f]*'));
ALTER TABLE records ADD COLUMN signer_trusted INTEGER
	CHECK ((signer_trusted IS NULL AND signer_sha256 IS NULL) OR signer_trusted IN (0, 1));
CREATE INDEX records_signer ON records (signer_sha256, leaf_index) WHERE signer_sha256 IS NOT NULL;
