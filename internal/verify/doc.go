// Package verify checks a PDF the way an auditor would and returns a
// [Report]:
//
//   - every signature: integrity of the signed bytes, the signer and the
//     chain to a configured trust anchor at the signing time (the
//     time-stamp's time when there is a valid one), the time-stamp
//     authority and whether its imprint matches, the PAdES level, which
//     revision the signature covers and what was appended after it;
//   - whether the file's structure is unambiguous and the changes after
//     each signature are allowed by the DocMDP permissions in force, with
//     the analysis every door of the service shares (pades.Analyse): each
//     forbidden change is a reason naming its object and its path;
//   - whether the file, or one of its revisions (the sealed version is the
//     bytes up to the seal's revision end), is an archived document
//     version, and which;
//   - the inclusion of that version's record in the audit log, proved
//     against the log's current signed checkpoint: the checkpoint's
//     signature is verified with the log's public key, then the leaf hash
//     recomputed from the record is checked with audit.VerifyInclusion.
//
// A failed check is a result: Report.Valid is false and Report.Reasons
// says why, with machine codes and localised messages. Only a file that
// cannot be read as a PDF is an error (EINVALID).
//
// The API (POST /v1/verify) and the offline command (faldone verify) run
// the same code: online the archive and the log are the service's; offline
// they are read from an evidence [Bundle] exported by
// GET /v1/documents/{id}/evidence.
package verify
