// Package pades signs PDF files with PAdES baseline signatures (ETSI EN
// 319 142-1, levels B-B, B-T, B-LT and B-LTA) and inspects the signatures of PDF
// files.
//
// Sign appends an incremental update to the input, which stays an
// unchanged prefix of the output: a signature dictionary with SubFilter
// ETSI.CAdES.detached, an invisible signature field on page 1, the
// AcroForm and, for a certification signature, the catalog's DocMDP
// permissions (/P 2). The CMS SignedData is detached, uses SHA-256 and
// carries the signed attributes content-type, message-digest and
// signing-certificate-v2; as PAdES requires, the claimed signing time is
// /M and no signing-time attribute is present. At level B-T an RFC 3161
// token over the signature value is added as the unsigned attribute
// signature-time-stamp. Sign verifies its own output before returning.
//
// Inspect lists and verifies the integrity of the signatures of a file
// (ETSI.CAdES.detached and adbe.pkcs7.detached); trust in the signer
// certificates is left to the caller, which gets the certificates.
// Analyse judges what changed after each signature: it reads every
// revision strictly and reports each ambiguity of structure (a Finding),
// then compares the object graph of each signed revision with the file's,
// as a reader resolves it from the trailer, and judges each Change with
// the Policy of the DocMDP level in force (PolicyFor), made of small
// whitelisting rules. CheckCountersigned accepts or refuses the copy of a
// sealed file that a signer sends back after adding its own signature,
// with the same analysis. Document time-stamps (ETSI.RFC3161) are
// verified too.
//
// LTV.Extend brings a file's signatures to B-LT and B-LTA: an update
// with a /DSS holding the certificates and revocation data (OCSP, else
// CRLs, fetched by Revocation) of every signature's and time-stamp's
// chain, with a /VRI entry per signature, then a document time-stamp
// (AddDocTimestamp). Inspect names each signature's level from the bytes
// and gives it the /DSS's validation data.
//
// The PDF parser is small and bounded: it reads classic cross-reference
// tables, cross-reference streams and object streams (FlateDecode), and
// refuses encrypted files for signing.
package pades
