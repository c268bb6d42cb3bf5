package trust

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// Service type identifiers of ETSI TS 119 612 that anchor signatures and
// time-stamps.
const (
	SvcCAQC    = "http://uri.etsi.org/TrstSvc/Svctype/CA/QC"  // qualified certificates
	SvcCAPKC   = "http://uri.etsi.org/TrstSvc/Svctype/CA/PKC" // non-qualified certificates
	SvcTSAQTST = "http://uri.etsi.org/TrstSvc/Svctype/TSA/QTST"
	SvcTSA     = "http://uri.etsi.org/TrstSvc/Svctype/TSA"
)

// statusPrefix begins every service status URI.
const statusPrefix = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/"

// Granted reports whether a service status URI lets its service anchor
// trust: "granted" and "recognisedatnationallevel", and the statuses of
// lists made before eIDAS that meant the same ("undersupervision",
// "supervisionincessation", "accredited", "setbynationallaw").
func Granted(status string) bool {
	switch strings.TrimPrefix(status, statusPrefix) {
	case "granted", "recognisedatnationallevel", "undersupervision", "supervisionincessation", "accredited", "setbynationallaw":
		return strings.HasPrefix(status, statusPrefix)
	}
	return false
}

func statusName(status string) string {
	if status == "" {
		return "without a status"
	}
	return strings.TrimPrefix(status, statusPrefix)
}

// TrustedList is a Trusted List (ETSI TS 119 612) whose XML signature was
// verified. Only the signed content is read.
type TrustedList struct {
	Territory  string    `json:"territory"`
	Operator   string    `json:"operator"`
	Sequence   int       `json:"sequence"`
	Issued     time.Time `json:"issued"`
	NextUpdate time.Time `json:"next_update"`
	// Signer is the certificate that signed the list, one of those pinned.
	Signer   *x509.Certificate `json:"-"`
	Services []Service         `json:"services"`
}

// Service is one trust service of a Trusted List.
type Service struct {
	Provider  string `json:"provider"`
	Name      string `json:"name"`
	Type      string `json:"type"`
	Territory string `json:"territory"`
	// History is the service's status over time, newest first: the current
	// status, then its service history.
	History []Status `json:"history"`

	certs []*x509.Certificate
}

// Status is a service's status from a time on.
type Status struct {
	Status string    `json:"status"`
	From   time.Time `json:"from"`
}

// Qualified reports whether the service issues qualified certificates or
// qualified time-stamps.
func (s *Service) Qualified() bool { return s.Type == SvcCAQC || s.Type == SvcTSAQTST }

// Anchors reports whether the service's identity can anchor a chain: a
// certification authority or a time-stamping authority.
func (s *Service) Anchors() bool {
	return s.Type == SvcCAQC || s.Type == SvcCAPKC || s.Type == SvcTSAQTST || s.Type == SvcTSA
}

// StatusAt returns the status the service had at t; the zero Status when
// t is before its first status.
func (s *Service) StatusAt(t time.Time) Status {
	for _, st := range s.History {
		if !st.From.After(t) {
			return st
		}
	}
	return Status{}
}

// Certificates returns the service's identity certificates.
func (s *Service) Certificates() []*x509.Certificate { return s.certs }

// maxTrustedList bounds the Trusted List file read (the EU lists are a few
// megabytes).
const maxTrustedList = 64 << 20

// LoadTrustedList reads a Trusted List file and checks it as
// ParseTrustedList does.
func LoadTrustedList(path string, signers []*x509.Certificate, now time.Time) (*TrustedList, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("trusted list: %w", err)
	}
	if fi.Size() > maxTrustedList {
		return nil, fmt.Errorf("trusted list %s: %d bytes, over the %d limit", path, fi.Size(), maxTrustedList)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("trusted list: %w", err)
	}
	tl, err := ParseTrustedList(data, signers, now)
	if err != nil {
		return nil, fmt.Errorf("trusted list %s: %w", path, err)
	}
	return tl, nil
}

// ParseTrustedList checks the enveloped XML signature of a Trusted List
// with one of the pinned signer certificates, valid at now, and reads the
// content the signature covers; nothing outside it is read. A list whose
// signature does not verify, or made by another certificate, is an error.
func ParseTrustedList(data []byte, signers []*x509.Certificate, now time.Time) (*TrustedList, error) {
	if len(signers) == 0 {
		return nil, errors.New("no certificate is pinned to check the list's signature")
	}
	doc := etree.NewDocument()
	doc.ReadSettings.Permissive = false
	if err := doc.ReadFromBytes(data); err != nil {
		return nil, fmt.Errorf("read xml: %w", err)
	}
	root := doc.Root()
	if root == nil || root.Tag != "TrustServiceStatusList" {
		return nil, errors.New("not an ETSI TS 119 612 TrustServiceStatusList")
	}
	// The list's enveloped signature is the last child of the root, and
	// goxmldsig looks for it in at most 1,000 elements: a national list
	// has many more before it. Moved to the front (element only, so the
	// text around it stays where it was), it is found at once, and the
	// enveloped-signature transform removes it from the same bytes.
	var sigs []*etree.Element
	for _, c := range root.ChildElements() {
		if c.Tag == "Signature" && c.NamespaceURI() == dsig.Namespace {
			sigs = append(sigs, c)
		}
	}
	if len(sigs) != 1 {
		return nil, fmt.Errorf("xml signature: %d signatures of the list, want 1", len(sigs))
	}
	root.RemoveChild(sigs[0])
	root.InsertChildAt(0, sigs[0])
	ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: signers})
	ctx.IdAttribute = "Id"
	ctx.Clock = dsig.NewFakeClockAt(now)
	signed, err := ctx.Validate(root)
	if err != nil {
		return nil, fmt.Errorf("xml signature: %w", err)
	}
	out := etree.NewDocument()
	out.SetRoot(signed)
	b, err := out.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("signed content: %w", err)
	}
	var x xmlTSL
	if err := xml.Unmarshal(b, &x); err != nil {
		return nil, fmt.Errorf("signed content: %w", err)
	}
	tl, err := x.list()
	if err != nil {
		return nil, err
	}
	if c, err := signerOf(root); err == nil {
		tl.Signer = c
	}
	return tl, nil
}

// signerOf returns the certificate of the list's KeyInfo, which the
// validation already matched to a pinned one.
func signerOf(root *etree.Element) (*x509.Certificate, error) {
	el := root.FindElement("./Signature/KeyInfo/X509Data/X509Certificate")
	if el == nil {
		return nil, errors.New("no certificate")
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(el.Text()), ""))
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

type xmlNames struct {
	Names []struct {
		Lang string `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
		Text string `xml:",chardata"`
	} `xml:"Name"`
}

// pick returns the English name, else the first.
func (n xmlNames) pick() string {
	for _, x := range n.Names {
		if x.Lang == "en" {
			return strings.TrimSpace(x.Text)
		}
	}
	if len(n.Names) > 0 {
		return strings.TrimSpace(n.Names[0].Text)
	}
	return ""
}

type xmlServiceInfo struct {
	Type     string   `xml:"ServiceTypeIdentifier"`
	Name     xmlNames `xml:"ServiceName"`
	Identity struct {
		DigitalIDs []struct {
			Certificates []string `xml:"X509Certificate"`
		} `xml:"DigitalId"`
	} `xml:"ServiceDigitalIdentity"`
	Status string `xml:"ServiceStatus"`
	From   string `xml:"StatusStartingTime"`
}

type xmlTSL struct {
	XMLName xml.Name `xml:"TrustServiceStatusList"`
	Scheme  struct {
		Sequence   int      `xml:"TSLSequenceNumber"`
		Operator   xmlNames `xml:"SchemeOperatorName"`
		Territory  string   `xml:"SchemeTerritory"`
		Issued     string   `xml:"ListIssueDateTime"`
		NextUpdate string   `xml:"NextUpdate>dateTime"`
	} `xml:"SchemeInformation"`
	Providers []struct {
		Name     xmlNames `xml:"TSPInformation>TSPName"`
		Services []struct {
			Info    xmlServiceInfo   `xml:"ServiceInformation"`
			History []xmlServiceInfo `xml:"ServiceHistory>ServiceHistoryInstance"`
		} `xml:"TSPServices>TSPService"`
	} `xml:"TrustServiceProviderList>TrustServiceProvider"`
}

func parseTime(s, what string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q is not an xsd:dateTime", what, s)
	}
	return t.UTC(), nil
}

func (x *xmlTSL) list() (*TrustedList, error) {
	tl := &TrustedList{Territory: strings.TrimSpace(x.Scheme.Territory), Operator: x.Scheme.Operator.pick(), Sequence: x.Scheme.Sequence}
	var err error
	if tl.Issued, err = parseTime(x.Scheme.Issued, "ListIssueDateTime"); err != nil {
		return nil, err
	}
	if x.Scheme.NextUpdate != "" {
		if tl.NextUpdate, err = parseTime(x.Scheme.NextUpdate, "NextUpdate"); err != nil {
			return nil, err
		}
	}
	for _, p := range x.Providers {
		for _, s := range p.Services {
			svc := Service{Provider: p.Name.pick(), Name: s.Info.Name.pick(), Type: strings.TrimSpace(s.Info.Type), Territory: tl.Territory}
			for _, id := range s.Info.Identity.DigitalIDs {
				for _, b64 := range id.Certificates {
					der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(b64), ""))
					if err != nil {
						return nil, fmt.Errorf("service %q: certificate is not base64", svc.Name)
					}
					c, err := x509.ParseCertificate(der)
					if err != nil {
						return nil, fmt.Errorf("service %q: %w", svc.Name, err)
					}
					svc.certs = append(svc.certs, c)
				}
			}
			for _, h := range append([]xmlServiceInfo{s.Info}, s.History...) {
				from, err := parseTime(h.From, "StatusStartingTime")
				if err != nil {
					return nil, fmt.Errorf("service %q: %w", svc.Name, err)
				}
				svc.History = append(svc.History, Status{Status: strings.TrimSpace(h.Status), From: from})
			}
			slices.SortStableFunc(svc.History, func(a, b Status) int { return b.From.Compare(a.From) })
			tl.Services = append(tl.Services, svc)
		}
	}
	return tl, nil
}

// Stale reports whether the list is past its next update at now.
func (tl *TrustedList) Stale(now time.Time) bool {
	return !tl.NextUpdate.IsZero() && now.After(tl.NextUpdate)
}
