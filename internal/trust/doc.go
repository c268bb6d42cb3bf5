// Package trust decides whether a signer is trusted, and when.
//
// Trust anchors come from PEM bundles ([Anchors.AddPEM]) and from EU or
// national Trusted Lists in ETSI TS 119 612 XML ([ParseTrustedList]),
// whose own XML signature is checked against certificates the operator
// pins. An anchor taken from a Trusted List is trusted only while its
// service's status, at the time in question, is granted.
//
// [Policy.Judge] judges the signatures of a PDF the one way every door of
// the service shares (verification, the web pages, the command line and
// the intake of a comune's signed copy): a signer is trusted when its
// certificate chains to an anchor at the time of a trusted time-stamp
// over its signature, else at the time of the judgement, never at the
// signing time the signer claims. Claimed times are still checked: a
// claimed time outside the certificate's validity, far from its
// time-stamp, or earlier than the revision before it is a finding.
package trust
