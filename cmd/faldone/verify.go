package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"faldone/internal/seal"
	"faldone/internal/tmpl"
	"faldone/internal/trust"
	"faldone/internal/verify"
)

// newVerifier builds the service's verifier: it trusts the root of the
// seal's chain (the development CA on the embedded default), the
// certificates of the PEM bundle cfg.Trust and the granted services of the
// Trusted List cfg.TrustedList, reads archive and proves inclusion with log
// (nil: reports log_unavailable and exports no evidence).
func newVerifier(cfg *Config, sealer *seal.Sealer, archive verify.Archive, log verify.Log, msgs verify.Messages) (*verify.Verifier, error) {
	anchors := &verify.Anchors{}
	if chain := sealer.Key.Chain; len(chain) > 0 {
		anchors.Add(chain[len(chain)-1], "service")
	}
	if err := addAnchors(anchors, cfg.Trust, cfg.TrustedList, cfg.TrustedListSigner, cfg.Production, time.Now()); err != nil {
		return nil, err
	}
	return &verify.Verifier{Anchors: anchors, Archive: archive, Log: log, Messages: msgs}, nil
}

// logAnchors says at start what the service trusts, and warns when
// production will refuse every comune's signature for want of anchors.
func logAnchors(log *slog.Logger, cfg *Config, v *verify.Verifier) {
	sources := map[string]int{}
	for _, a := range v.Anchors.List() {
		sources[a.Source]++
	}
	log.Info("trust anchors", "sources", sources)
	if cfg.Production && cfg.Trust == "" && cfg.TrustedList == "" {
		log.Warn("no --trust or --trusted-list: production refuses every comune's signature as untrusted_signer")
	}
}

// addAnchors trusts the certificates of the PEM bundle pemFile and the
// services of the Trusted List tslFile, whose signature is checked with
// the certificates of signerFile. A list past its next update is refused
// in production, and said on standard error otherwise.
func addAnchors(anchors *verify.Anchors, pemFile, tslFile, signerFile string, production bool, now time.Time) error {
	if pemFile != "" {
		if _, err := anchors.AddFile(pemFile); err != nil {
			return err
		}
	}
	if tslFile == "" && signerFile == "" {
		return nil
	}
	if tslFile == "" || signerFile == "" {
		return settingErrors{bad("together")}
	}
	pemData, err := os.ReadFile(signerFile)
	if err != nil {
		return failWrap("tl_signer", err, signerFile)
	}
	signers, err := trust.ParsePEM(pemData)
	if err != nil {
		return failWrap("tl_signer", err, signerFile)
	}
	tl, err := trust.LoadTrustedList(tslFile, signers, now)
	if err != nil {
		return err
	}
	if tl.Stale(now) {
		if production {
			return failWrap("tl_stale", nil, tslFile, tl.NextUpdate.Format(time.RFC3339))
		}
		fmt.Fprintf(os.Stderr, "faldone: warning: trusted list %s is past its next update %s\n", tslFile, tl.NextUpdate.Format(time.RFC3339))
	}
	if anchors.AddTrustedList(tl, "trusted-list:"+tslFile) == 0 {
		return failWrap("tl_empty", nil, tslFile)
	}
	return nil
}

const verifyUsage = `Usage: faldone verify FILE.pdf [--bundle B.json] [--trust PEM] [--trusted-list XML --trusted-list-signer PEM] [--log-key KEY] [--lang it|en|de] [--json]

Verifies a PDF offline, with no server and no network: its signatures, their
trust, the changes after the seal and, with an evidence bundle
(GET /v1/documents/{id}/evidence), that the file or its first revisions are
the archived version and that the version is in the audit log.

Exit status: 0 valid, 1 not valid, 2 usage error or unreadable file.

`

// verifyCmd runs "faldone verify": nil when the file is valid,
// errFindings when not.
func verifyCmd(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	bundlePath := fs.String("bundle", "", "evidence bundle of the archived version (JSON from GET /v1/documents/{id}/evidence)")
	trustPEM := fs.String("trust", "", "PEM file of further trusted certification authorities (e.g. the qualified CAs comuni sign with)")
	tslFile := fs.String("trusted-list", "", "ETSI TS 119 612 Trusted List XML file whose granted services are trusted (needs --trusted-list-signer)")
	tslSigner := fs.String("trusted-list-signer", "", "PEM file of the certificates allowed to sign the Trusted List")
	logKey := fs.String("log-key", "", "the audit log's public key to pin, replacing the bundle's (note verifier key)")
	lang := fs.String("lang", "it", "language of the report: it, en or de")
	asJSON := fs.Bool("json", false, "print the JSON report, as POST /v1/verify answers it")
	files, err := parseFlags(fs, args, verifyUsage, stdout)
	if err != nil {
		return err
	}
	switch {
	case len(files) != 1:
		return usagef("one_file")
	case !slices.Contains(tmpl.Languages, *lang):
		return usagef("bad_lang", strings.Join(tmpl.Languages, ", "))
	case *logKey != "" && *bundlePath == "":
		return usagef("needs", "--log-key", "--bundle")
	}
	pdf, err := os.ReadFile(files[0])
	if err != nil {
		return usageWrap("read", err, files[0])
	}
	set, err := loadTemplates("")
	if err != nil {
		return err
	}
	extra := &verify.Anchors{}
	if err := addAnchors(extra, *trustPEM, *tslFile, *tslSigner, false, time.Now()); err != nil {
		return usageWrap("read", err, "--trust, --trusted-list")
	}
	v := &verify.Verifier{Anchors: extra, Messages: set}
	if *bundlePath != "" {
		data, err := os.ReadFile(*bundlePath)
		if err != nil {
			return usageWrap("read", err, *bundlePath)
		}
		b, err := verify.ParseBundle(data)
		if err != nil {
			return usageWrap("read", err, *bundlePath)
		}
		if v, err = b.Offline(extra, *logKey, set); err != nil {
			return usageWrap("read", err, *bundlePath)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := v.Verify(ctx, pdf, *lang)
	if err != nil {
		return usageWrap("not_pdf", err, files[0])
	}
	if *asJSON {
		if err := writeJSON(stdout, r); err != nil {
			return err
		}
	} else {
		printReport(stdout, files[0], r)
	}
	if !r.Valid {
		return findingsf("not_valid", files[0])
	}
	return nil
}

// printReport writes a report for people: the verdict, each signature,
// the archived version and its inclusion in the log, and the reasons.
func printReport(w io.Writer, name string, r *verify.Report) {
	verdict := "NOT VALID"
	if r.Valid {
		verdict = "VALID"
	}
	fmt.Fprintf(w, "%s: %s\n  %s\n", name, verdict, r.Summary)
	fmt.Fprintf(w, "  sha256 %s, %d bytes, %d revisions\n", r.SHA256, r.Size, len(r.Revisions))
	for _, l := range r.TrustedLists {
		fmt.Fprintf(w, "  trusted list %s: %d anchors", l.Source, l.Anchors)
		if l.Territory != "" {
			fmt.Fprintf(w, ", %s, sequence %d, next update %s", l.Territory, l.Sequence, l.NextUpdate.Format(time.DateOnly))
		}
		fmt.Fprintln(w)
	}
	for _, s := range r.Signatures {
		fmt.Fprintf(w, "\nsignature %d (%s, %s", s.Index+1, s.Field, s.SubFilter)
		if s.Level != "" {
			fmt.Fprintf(w, ", PAdES %s", s.Level)
		}
		if s.DocMDP > 0 {
			fmt.Fprintf(w, ", certification P=%d", s.DocMDP)
		}
		fmt.Fprintln(w, ")")
		if s.Signer != nil {
			fmt.Fprintf(w, "  signer     %s\n", s.Signer.Subject)
			fmt.Fprintf(w, "  issuer     %s\n", s.Signer.Issuer)
		}
		if id := s.Identity; id != nil {
			if id.SerialNumber != "" {
				fmt.Fprintf(w, "  serial no. %s\n", id.SerialNumber)
			}
			q := "no"
			if id.Qualified {
				q = "yes (QCStatements)"
				if id.QCType != "" {
					q += ", " + id.QCType
				}
				if id.QSCD {
					q += ", key in a QSCD"
				}
			}
			if id.QualifiedService {
				q += "; issued by a qualified service of the Trusted List"
			}
			fmt.Fprintf(w, "  qualified  %s\n", q)
		}
		at := "at the time of this verification"
		if s.TrustTimeSource == "timestamp" {
			at = "at the trusted time-stamp's time"
		}
		switch {
		case s.Trusted:
			via := s.Chain[len(s.Chain)-1].Subject
			if s.Identity != nil && s.Identity.Anchor != "" {
				via += ", " + s.Identity.Anchor
			}
			fmt.Fprintf(w, "  trusted    yes, via %s, %s %s\n", via, at, s.TrustTime.Format(time.RFC3339))
		case s.TrustError != "":
			fmt.Fprintf(w, "  trusted    no, %s %s: %s\n", at, s.TrustTime.Format(time.RFC3339), s.TrustError)
		}
		fmt.Fprintf(w, "  intact     %v", s.Intact)
		if s.IntegrityError != "" {
			fmt.Fprintf(w, ": %s", s.IntegrityError)
		}
		fmt.Fprintln(w)
		if s.SigningTime != nil {
			fmt.Fprintf(w, "  signed     %s\n", s.SigningTime.Format(time.RFC3339))
		}
		if ts := s.Timestamp; ts != nil {
			fmt.Fprintf(w, "  timestamp  %s by %s (valid %v, trusted %v)\n", ts.Time.Format(time.RFC3339), ts.Authority, ts.Valid, ts.Trusted)
		}
		cover := fmt.Sprintf("revision %d, %d bytes", s.Covers.Revision, s.Covers.Bytes)
		if s.Covers.WholeFile {
			cover += ", the whole file"
		}
		fmt.Fprintf(w, "  covers     %s\n", cover)
		if s.Appended.Bytes > 0 {
			fmt.Fprintf(w, "  after it   %d bytes, %d revisions, %d signatures", s.Appended.Bytes, s.Appended.Revisions, s.Appended.Signatures)
			if s.Appended.Allowed != nil {
				fmt.Fprintf(w, "; allowed by the certification: %v", *s.Appended.Allowed)
			}
			fmt.Fprintln(w)
		}
	}
	for _, a := range r.Archived {
		what := "the whole file"
		if !a.WholeFile {
			what = fmt.Sprintf("revision %d (the first %d bytes)", a.Revision, a.Bytes)
		}
		fmt.Fprintf(w, "\narchived: %s is document %s version %d (%s, comune %s), created %s\n", what, a.ID, a.Version, a.Kind, a.Comune, a.Created.Format(time.RFC3339))
		if len(a.Conformance) > 0 {
			fmt.Fprintf(w, "  produced   %s\n", strings.Join(a.Conformance, ", "))
		}
		switch in := a.Inclusion; {
		case in == nil:
			fmt.Fprintln(w, "  inclusion  not proved")
		case in.Verified:
			fmt.Fprintf(w, "  inclusion  proved: leaf %d of a tree of %d, checkpoint of %s (%s), root %s\n", in.LeafIndex, in.TreeSize, in.Origin, in.Time.Format(time.RFC3339), in.Root)
		default:
			fmt.Fprintf(w, "  inclusion  FAILED: %s\n", in.Error)
		}
	}
	fmt.Fprintln(w, "\nreasons:")
	for _, x := range r.Reasons {
		fmt.Fprintf(w, "  [%s] %s: %s\n", x.Severity, x.Code, x.Message)
		if x.Detail != "" {
			fmt.Fprintf(w, "      %s\n", x.Detail)
		}
	}
}
