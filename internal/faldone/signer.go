package faldone

import "time"

// Signer describes who signed: the facts of the signer's certificate and
// the judgement of trust (package trust makes it). It is what the archive
// records of a comune's signature, in SealFacts.ComuneSigner.
type Signer struct {
	// Subject is the certificate's subject distinguished name.
	Subject string `json:"subject"`
	// CommonName is the subject's CN.
	CommonName string `json:"common_name,omitempty"`
	// SerialNumber is the subject's serialNumber attribute, such as
	// "TINIT-RSSMRA80A01H501U" (a person's Italian tax code) or
	// "VATIT-01234567890"; not the certificate's serial.
	SerialNumber string `json:"serial_number,omitempty"`
	// Organization is the subject's O.
	Organization string `json:"organization,omitempty"`
	Issuer       string `json:"issuer"`
	// CertSerial is the certificate's serial number, in hex.
	CertSerial string    `json:"cert_serial"`
	CertSHA256 string    `json:"cert_sha256"`
	NotBefore  time.Time `json:"not_before"`
	NotAfter   time.Time `json:"not_after"`
	// Qualified is true when the certificate says, in its QCStatements,
	// that it is an EU qualified certificate (QcCompliance).
	Qualified bool `json:"qualified"`
	// QSCD is true when the QCStatements say the key is in a qualified
	// signature creation device.
	QSCD bool `json:"qscd,omitempty"`
	// QCType is "esign", "eseal" or "web" from the QCStatements.
	QCType string `json:"qc_type,omitempty"`
	// QualifiedService is true when the anchor reached is a Trusted List
	// service issuing qualified certificates (CA/QC), granted at
	// TrustTime: the QCStatements alone are the issuer's word, this is the
	// supervisory body's.
	QualifiedService bool `json:"qualified_service,omitempty"`
	// Trusted is true when the certificate chains to a trust anchor at
	// TrustTime.
	Trusted bool `json:"trusted"`
	// Anchor is the source of the anchor reached ("bundle:PATH",
	// "trusted-list:PATH", ...), when trusted.
	Anchor string `json:"anchor,omitempty"`
	// TrustTime is the time trust was decided at, and TrustTimeSource
	// where it comes from: "timestamp" (a trusted time-stamp over the
	// signature) or "now" (the time of the judgement).
	TrustTime       time.Time `json:"trust_time"`
	TrustTimeSource string    `json:"trust_time_source"`
	// Reasons are the codes of the findings that make the signer not
	// trusted, or that were reported about its times.
	Reasons []string `json:"reasons,omitempty"`
}
