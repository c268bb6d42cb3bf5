package keys

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

const (
	// DevOrganization is the subject organisation of every development
	// certificate; IsDev looks for its "faldone DEVELOPMENT" prefix.
	DevOrganization = "faldone DEVELOPMENT - NOT VALID FOR PRODUCTION"
	// DevSealFile is the file in the development directory holding the seal
	// key and chain (mode 0600).
	DevSealFile = "dev-seal.pem"
	// DevCAFile is the file in the development directory holding the
	// development CA certificate, to be trusted by PDF readers in testing.
	DevCAFile = "dev-ca.pem"

	// DevCRLFile is the file in the development directory holding the
	// development CA's CRL (DER), made with the CA and, as the CA key is
	// not kept, valid for the seal's lifetime: nothing can be revoked.
	DevCRLFile = "dev-ca.crl"

	devCALifetime   = 10 * 365 * 24 * time.Hour
	devSealLifetime = 5 * 365 * 24 * time.Hour
)

// devMu keeps goroutines of one process from creating a seal twice.
var devMu sync.Mutex

// oidDocumentSigning is id-kp-documentSigning (RFC 9336).
var oidDocumentSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36}

// DevSeal returns the development seal kept in dir, creating a development
// CA and a seal certificate issued by it the first time (created is then
// true). Both are ECDSA P-256 and carry DevOrganization, so IsDev recognises
// them and Open refuses them unless development seals are allowed. The CA key
// is not kept. Files are written atomically; the seal key file has mode 0600.
// now is the clock (time.Now if nil); a seal that expired by now is an error,
// remove dir to start again.
func DevSeal(dir string, now func() time.Time) (s *Seal, created bool, err error) {
	if now == nil {
		now = time.Now
	}
	devMu.Lock()
	defer devMu.Unlock()
	path := filepath.Join(dir, DevSealFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if err := createDevSeal(dir, now()); err != nil {
			return nil, false, fmt.Errorf("create dev seal: %w", err)
		}
		created = true
	} else if err != nil {
		return nil, false, fmt.Errorf("load dev seal: %w", err)
	}
	s, err = LoadPEM(path, path)
	if err != nil {
		return nil, false, fmt.Errorf("load dev seal: %w", err)
	}
	if !s.Dev {
		return nil, false, fmt.Errorf("load dev seal %s: not a development certificate", path)
	}
	if t := now(); t.After(s.Chain[0].NotAfter) {
		return nil, false, fmt.Errorf("load dev seal %s: expired on %s, remove %s to create a new one",
			path, s.Chain[0].NotAfter.Format(time.DateOnly), dir)
	}
	s.Source = "dev:" + dir
	return s, created, nil
}

// DevCA returns the development CA certificate kept in dir by DevSeal.
func DevCA(dir string) (*x509.Certificate, error) {
	certs, err := readPEMCerts(filepath.Join(dir, DevCAFile))
	if err != nil {
		return nil, fmt.Errorf("load dev ca: %w", err)
	}
	return certs[0], nil
}

// DevCRL returns the development CA's CRL (DER) kept in dir by DevSeal;
// a development directory made before CRLs were has none (fs.ErrNotExist).
func DevCRL(dir string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(dir, DevCRLFile))
	if err != nil {
		return nil, fmt.Errorf("load dev crl: %w", err)
	}
	if _, err := x509.ParseRevocationList(b); err != nil {
		return nil, fmt.Errorf("load dev crl: %w", err)
	}
	return b, nil
}

// IsDev reports whether c is a development certificate, one whose subject or
// issuer organisation starts with "faldone DEVELOPMENT" as DevSeal makes
// them. Such certificates must never seal production documents.
func IsDev(c *x509.Certificate) bool {
	if c == nil {
		return false
	}
	for _, n := range []pkix.Name{c.Subject, c.Issuer} {
		for _, o := range n.Organization {
			if strings.HasPrefix(o, "faldone DEVELOPMENT") {
				return true
			}
		}
	}
	return false
}

// createDevSeal writes DevCAFile and then DevSealFile, whose presence marks a
// complete development seal.
func createDevSeal(dir string, now time.Time) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{Country: []string{"IT"}, Organization: []string{DevOrganization}, CommonName: "faldone development CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(devCALifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return fmt.Errorf("ca certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	leafTmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{Country: []string{"IT"}, Organization: []string{DevOrganization}, CommonName: "faldone development seal"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(devSealLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		UnknownExtKeyUsage:    []asn1.ObjectIdentifier{oidDocumentSigning},
		BasicConstraintsValid: true,
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, key.Public(), caKey)
	if err != nil {
		return fmt.Errorf("seal certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}

	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(devSealLifetime),
	}, ca, caKey)
	if err != nil {
		return fmt.Errorf("ca crl: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, DevCRLFile), crl, 0o644); err != nil {
		return err
	}

	var caPEM, sealPEM bytes.Buffer
	_ = pem.Encode(&caPEM, &pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	_ = pem.Encode(&sealPEM, &pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	_ = pem.Encode(&sealPEM, &pem.Block{Type: "CERTIFICATE", Bytes: leafDER})
	sealPEM.Write(caPEM.Bytes())
	if err := writeFileAtomic(filepath.Join(dir, DevCAFile), caPEM.Bytes(), 0o644); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, DevSealFile), sealPEM.Bytes(), 0o600)
}

func randomSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return n.Add(n, big.NewInt(1))
}

// writeFileAtomic writes data to a temporary file in the same directory,
// syncs it, renames it over path and syncs the directory.
func writeFileAtomic(path string, data []byte, perm fs.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
