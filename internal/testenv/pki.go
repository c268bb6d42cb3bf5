package testenv

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// PKI is a test public-key infrastructure made with openssl: a root CA,
// an intermediate CA, a seal certificate, a revoked seal certificate and
// a time-stamping certificate, all issued by the intermediate. The
// end-entity certificates name an OCSP responder (openssl ocsp, signing
// with the intermediate's key) and a CRL distribution point; the
// intermediate names the root's CRL only. Both CRLs are served by an HTTP
// server; everything listens on 127.0.0.1 and stops with the test.
type PKI struct {
	Dir string
	// Root, Inter, Seal, Revoked and TSA are the certificates; the
	// *Key fields the PEM files of their private keys.
	Root, Inter, Seal, Revoked, TSA, TSA2        *x509.Certificate // TSA2 lasts two years, the others one
	RootFile, InterFile, ChainFile, TSAChainFile string            // PEM files: root; intermediate; seal, inter, root; tsa, inter, root
	SealKey, RevokedKey, TSAKey                  crypto.Signer
	SealKeyFile, RevokedKeyFile, TSAKeyFile      string
	OCSPURL, CRLBase                             string
	// RevokedAt is when the revoked certificate was revoked (an hour
	// before the PKI was made).
	RevokedAt time.Time
}

const pkiScript = `set -e
cd "$1"
OCSP="$2"; CRL="$3"
mkcnf() { # name
  mkdir -p "$1"; : > "$1/index.txt"; echo 1000 > "$1/crlnumber"
  cat > "$1/ca.cnf" <<EOF
[ca]
default_ca = d
[d]
database = $PWD/$1/index.txt
crlnumber = $PWD/$1/crlnumber
default_md = sha256
default_crl_days = 2
EOF
}
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
key root
openssl req -x509 -new -key root.key -sha256 -days 3650 -subj "/O=faldone test/CN=faldone Test Root CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out root.pem 2>/dev/null
key inter
openssl req -new -key inter.key -subj "/O=faldone test/CN=faldone Test Intermediate CA" -out inter.csr
cat > inter.ext <<EOF
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
crlDistributionPoints=URI:$CRL/root.crl
EOF
openssl x509 -req -in inter.csr -CA root.pem -CAkey root.key -set_serial 0x10 -days 3650 -sha256 -extfile inter.ext -out inter.pem 2>/dev/null
leaf() { # name serial cn eku [days]
  key "$1"
  openssl req -new -key "$1.key" -subj "/O=faldone test/CN=$3" -out "$1.csr"
  cat > "$1.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,nonRepudiation
extendedKeyUsage=$4
authorityInfoAccess=OCSP;URI:$OCSP
crlDistributionPoints=URI:$CRL/inter.crl
EOF
  openssl x509 -req -in "$1.csr" -CA inter.pem -CAkey inter.key -set_serial "$2" -days "${5:-365}" -sha256 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
leaf seal 0x20 "faldone Test Seal" "emailProtection"
leaf revoked 0x21 "faldone Revoked Seal" "emailProtection"
leaf tsa 0x22 "faldone Test TSA" "critical,timeStamping"
leaf tsa2 0x23 "faldone Test TSA 2" "critical,timeStamping" 730
mkcnf rootca; mkcnf interca
exp=$(date -u -d '+365 days' +%y%m%d%H%M%SZ)
rev=$(date -u -d '-1 hour' +%y%m%d%H%M%SZ)
printf 'V\t%s\t\t10\tunknown\t/O=faldone test/CN=faldone Test Intermediate CA\n' "$exp" > rootca/index.txt
printf 'V\t%s\t\t20\tunknown\t/O=faldone test/CN=faldone Test Seal\n' "$exp" > interca/index.txt
printf 'R\t%s\t%s,keyCompromise\t21\tunknown\t/O=faldone test/CN=faldone Revoked Seal\n' "$exp" "$rev" >> interca/index.txt
printf 'V\t%s\t\t22\tunknown\t/O=faldone test/CN=faldone Test TSA\n' "$exp" >> interca/index.txt
printf 'V\t%s\t\t23\tunknown\t/O=faldone test/CN=faldone Test TSA 2\n' "$exp" >> interca/index.txt
openssl ca -gencrl -config rootca/ca.cnf -keyfile root.key -cert root.pem -out root.crl.pem 2>/dev/null
openssl ca -gencrl -config interca/ca.cnf -keyfile inter.key -cert inter.pem -out inter.crl.pem 2>/dev/null
openssl crl -in root.crl.pem -outform DER -out root.crl
openssl crl -in inter.crl.pem -outform DER -out inter.crl
cat seal.pem inter.pem root.pem > chain.pem
cat tsa.pem inter.pem root.pem > tsachain.pem
cat tsa2.pem inter.pem root.pem > tsa2chain.pem
echo "$rev" > revoked_at
`

// NewPKI makes the PKI in a temporary directory and starts its OCSP
// responder and CRL server. It skips the test (fails it under CI=true)
// when openssl is missing.
func NewPKI(tb testing.TB) *PKI {
	tb.Helper()
	openssl := Tool(tb, "openssl")
	dir := tb.TempDir()
	crlLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tools := tsaTools(tb)
	sockDir, err := socketDir()
	if err != nil {
		tb.Fatal(err)
	}
	sock := filepath.Join(sockDir, "ocsp.sock")
	proxy, err := newUnixProxy(sock)
	if err != nil {
		_ = os.RemoveAll(sockDir)
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		proxy.Close()
		_ = os.RemoveAll(sockDir)
	})
	p := &PKI{Dir: dir, CRLBase: "http://" + crlLn.Addr().String(), OCSPURL: "http://" + proxy.Addr()}
	cmd := exec.Command("bash", "-c", pkiScript, "bash", dir, p.OCSPURL, p.CRLBase)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(openssl)+string(os.PathListSeparator)+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil {
		crlLn.Close()
		tb.Fatalf("make test PKI: %v\n%s", err, out)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir)), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(crlLn) }()
	tb.Cleanup(func() { _ = srv.Close() })

	cert := func(name string) *x509.Certificate {
		b, err := os.ReadFile(filepath.Join(dir, name+".pem"))
		if err != nil {
			tb.Fatal(err)
		}
		blk, _ := pem.Decode(b)
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			tb.Fatal(err)
		}
		return c
	}
	key := func(name string) crypto.Signer {
		b, err := os.ReadFile(filepath.Join(dir, name+".key"))
		if err != nil {
			tb.Fatal(err)
		}
		blk, _ := pem.Decode(b)
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			tb.Fatal(err)
		}
		return k.(crypto.Signer)
	}
	p.Root, p.Inter, p.Seal, p.Revoked, p.TSA, p.TSA2 = cert("root"), cert("inter"), cert("seal"), cert("revoked"), cert("tsa"), cert("tsa2")
	p.SealKey, p.RevokedKey, p.TSAKey = key("seal"), key("revoked"), key("tsa")
	p.RootFile, p.InterFile = filepath.Join(dir, "root.pem"), filepath.Join(dir, "inter.pem")
	p.ChainFile, p.TSAChainFile = filepath.Join(dir, "chain.pem"), filepath.Join(dir, "tsachain.pem")
	p.SealKeyFile, p.RevokedKeyFile, p.TSAKeyFile = filepath.Join(dir, "seal.key"), filepath.Join(dir, "revoked.key"), filepath.Join(dir, "tsa.key")
	if b, err := os.ReadFile(filepath.Join(dir, "revoked_at")); err == nil {
		p.RevokedAt, _ = time.Parse("060102150405Z", strings.TrimSpace(string(b)))
	}

	// openssl ocsp listens on every address: it runs in a network
	// namespace of its own, reached through a proxy on 127.0.0.1, as
	// timestamp-server does.
	args := []string{"--net", "--kill-child"}
	if os.Geteuid() != 0 {
		args = append(args, "--map-root-user")
	}
	args = append(args, "sh", "-c", isolatedScript, "sh", tools.ip, tools.socat, sock, strconv.Itoa(ocspInnerPort),
		openssl, "ocsp", "-index", filepath.Join(dir, "interca", "index.txt"),
		"-port", strconv.Itoa(ocspInnerPort), "-rsigner", p.InterFile, "-rkey", filepath.Join(dir, "inter.key"),
		"-CA", p.InterFile, "-resp_no_certs", "-nmin", "60", "-ignore_err")
	var logs bytes.Buffer
	cmd = exec.Command(tools.unshare, args...)
	logw := &syncWriter{w: &logs} // one lock for both streams
	cmd.Stdout, cmd.Stderr = logw, logw
	cmd.SysProcAttr = tsaSysProcAttr()
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(tools.setpriv)+string(os.PathListSeparator)+os.Getenv("PATH"))
	if err := cmd.Start(); err != nil {
		tb.Fatalf("openssl ocsp: %v", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	tb.Cleanup(func() {
		killGroup(cmd)
		<-done
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := tsaClient.Get(p.OCSPURL + "/")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case <-done:
			tb.Fatalf("openssl ocsp exited: %s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("openssl ocsp did not start: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return p
}

// ocspInnerPort is the port of openssl ocsp in its network namespace.
const ocspInnerPort = 3001

// isolatedScript runs in a new network namespace: it brings up the
// private loopback, bridges the Unix socket $3 to port $4 with socat (which
// dies with its parent) and becomes the command that follows.
const isolatedScript = `set -e
"$1" link set lo up
setpriv --pdeathsig KILL "$2" UNIX-LISTEN:"$3",fork,mode=600 TCP:127.0.0.1:"$4" &
shift 4
exec "$@"
`

// StartPKITSA starts a timestamp-server of the test's own signing with
// the PKI's time-stamping key and chain.
func (p *PKI) StartPKITSA(tb testing.TB) *TSA {
	tb.Helper()
	return p.startTSA(tb, "tsa")
}

// StartPKITSA2 starts a timestamp-server signing with the PKI's second
// time-stamping key, whose certificate lasts a year longer.
func (p *PKI) StartPKITSA2(tb testing.TB) *TSA {
	tb.Helper()
	return p.startTSA(tb, "tsa2")
}

func (p *PKI) startTSA(tb testing.TB, name string) *TSA {
	tb.Helper()
	tools := tsaTools(tb)
	t, err := startTSA(tools, "--timestamp-signer", "file", "--file-signer-key-path", filepath.Join(p.Dir, name+".key"),
		"--certificate-chain-path", filepath.Join(p.Dir, name+"chain.pem"), "--enforce-intermediate-eku=false")
	if err != nil {
		tb.Fatalf("start timestamp-server: %v", err)
	}
	tb.Cleanup(t.Stop)
	return t
}

// String names the PKI's servers.
func (p *PKI) String() string { return fmt.Sprintf("PKI(ocsp %s, crl %s)", p.OCSPURL, p.CRLBase) }
