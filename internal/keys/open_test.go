package keys_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"faldone/internal/keys"
)

func TestOpenBadSpecs(t *testing.T) {
	for _, tt := range []struct {
		spec    string
		wantMsg string
	}{
		{"", "unknown seal kind"},
		{"hsm:foo", "unknown seal kind"},
		{"/etc/seal.p12", "unknown seal kind"},
		{"pkcs12:", "missing path"},
		{"pem:", "want pem:KEY,CHAIN"},
		{"pem:/k.pem,", "want pem:KEY,CHAIN"},
		{"pem:/k.pem,/a.pem,/b.pem", "want pem:KEY,CHAIN"},
		{"dev:", "no directory"},
		{"pkcs11:", "missing module, token, label or id"},
		{"pkcs11:module=/m.so;token=t", "missing label or id"},
		{"pkcs11:module=/m.so;label=k", "missing token"},
		{"pkcs11:module=/m.so;token=t;label=k;slot=1", `unknown key "slot"`},
		{"pkcs11:module=/m.so;token=t;label=k;label=j", `"label" given twice`},
		{"pkcs11:module=/m.so;token=t;id=zz", "want hex"},
		{"pkcs11:module=/m.so;token;label=k", "want key=value"},
		{"pkcs11:module=/m.so;token=t;label=k;pin=SECRET-1234", "PIN by environment or file"},
		{"pkcs11:module=/m.so;token=t;label=k;PIN-value=SECRET-1234", "PIN by environment or file"},
	} {
		t.Run(tt.spec, func(t *testing.T) {
			s, err := keys.Open(tt.spec, keys.Options{AllowDev: true})
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.wantMsg)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Fatalf("error echoes a secret: %v", err)
			}
		})
	}
}

func TestParsePKCS11(t *testing.T) {
	cfg, err := keys.ParsePKCS11("module=/usr/lib/softhsm/libsofthsm2.so;token=faldone;label=seal;id=0a1B;chain=/etc/faldone/chain.pem")
	if err != nil {
		t.Fatal(err)
	}
	want := keys.PKCS11Config{Module: "/usr/lib/softhsm/libsofthsm2.so", TokenLabel: "faldone", KeyLabel: "seal", KeyID: []byte{0x0a, 0x1b}, ChainFile: "/etc/faldone/chain.pem"}
	if cfg.String() != want.String() {
		t.Fatalf("cfg = %s, want %s", cfg, want)
	}
	if got := (keys.PKCS11Config{Module: "m", TokenLabel: "t", KeyLabel: "k", PIN: "1234"}).String(); strings.Contains(got, "1234") {
		t.Fatalf("String() = %q shows the PIN", got)
	}
}

func TestPasswordFrom(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tt := range []struct {
		name      string
		env, path string
		want      string
		wantErr   error
	}{
		{name: "env", env: "from env\n", want: "from env\n"},
		{name: "file", path: file("a", "from file"), want: "from file"},
		{name: "file newline", path: file("b", "from file\n"), want: "from file"},
		{name: "file crlf", path: file("c", "from file\r\n"), want: "from file"},
		{name: "only one newline", path: file("d", "from file\n\n"), want: "from file\n"},
		{name: "leading space kept", path: file("e", " x \n"), want: " x "},
		{name: "neither", wantErr: keys.ErrNoSecret},
		{name: "missing file", path: filepath.Join(dir, "nope"), wantErr: os.ErrNotExist},
		{name: "both", env: "x", path: file("f", "y"), wantErr: errors.New("")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := keys.PasswordFrom(tt.env, tt.path)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("got %q, want an error", got)
				}
				if tt.wantErr.Error() != "" && !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
