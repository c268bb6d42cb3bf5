// Package testenv holds helpers that set up real external parts for tests.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// SoftHSMModule is the default path of the SoftHSM2 PKCS#11 module on Debian
// and Ubuntu; the environment variable SOFTHSM2_MODULE overrides it.
const SoftHSMModule = "/usr/lib/softhsm/libsofthsm2.so"

// SoftHSM creates a fresh, empty SoftHSM2 token in a temporary directory and
// returns the module path, the token label and the user PIN.
//
// SOFTHSM2_CONF is a process-wide environment variable read when the module
// is initialised, so SoftHSM sets it with tb.Setenv: tests using it must not
// call t.Parallel, and must close every PKCS#11 context before they end so
// that the next test initialises the module with its own configuration.
//
// When softhsm2-util or the module is missing the test is skipped, unless
// the environment variable CI is "true", where it fails.
func SoftHSM(tb testing.TB) (module, tokenLabel, pin string) {
	tb.Helper()
	module = os.Getenv("SOFTHSM2_MODULE")
	if module == "" {
		module = SoftHSMModule
	}
	util, err := exec.LookPath("softhsm2-util")
	if err == nil {
		_, err = os.Stat(module)
	}
	if err != nil {
		msg := fmt.Sprintf("SoftHSM2 not available (apt-get install softhsm2): %v", err)
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}

	dir := tb.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		tb.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	body := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", tokens)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		tb.Fatal(err)
	}
	tb.Setenv("SOFTHSM2_CONF", conf)

	tokenLabel, pin = "faldone-test", "1234"
	cmd := exec.Command(util, "--init-token", "--free", "--label", tokenLabel, "--pin", pin, "--so-pin", "12345678")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("softhsm2-util --init-token: %v\n%s", err, out)
	}
	return module, tokenLabel, pin
}
