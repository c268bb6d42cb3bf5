package main

import (
	"flag"
	"os"
	"testing"
)

// TestSecureCookiesDefault: --secure-cookies is on under --production
// unless said otherwise, and off by default.
func TestSecureCookiesDefault(t *testing.T) {
	for _, v := range []string{"FALDONE_SECURE_COOKIES", "FALDONE_PRODUCTION"} {
		t.Setenv(v, "") // restored when the test ends
		os.Unsetenv(v)
	}
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{nil, false},
		{[]string{"--production"}, true},
		{[]string{"--production", "--secure-cookies=false"}, false},
		{[]string{"--secure-cookies"}, true},
	} {
		var cfg Config
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		cfg.bind(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		cfg.secureCookiesDefault(fs)
		if cfg.SecureCookies != tc.want {
			t.Errorf("%v: secure cookies %v, want %v", tc.args, cfg.SecureCookies, tc.want)
		}
	}
}
