package http_test

import (
	"net/http/httptest"
	"testing"
)

// BenchmarkAuthentication measures what a key costs a request: GET
// /healthz without a key, and with a staff key looked up in SQLite.
func BenchmarkAuthentication(b *testing.B) {
	s := MustServer(b)
	staff := serverOf(b, s).staff
	for _, bc := range []struct{ name, auth string }{{"no key", ""}, {"staff key", "Bearer " + staff}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("GET", "/healthz", nil)
				if bc.auth != "" {
					req.Header.Set("Authorization", bc.auth)
				}
				resp, err := s.App().Test(req, -1)
				if err != nil || resp.StatusCode != 200 {
					b.Fatal(err, resp.StatusCode)
				}
				resp.Body.Close()
			}
		})
	}
}
