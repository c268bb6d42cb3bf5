package http_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestEmojiIsRefusedNotCrashed: an emoji in any field is a 422 naming the
// field and the character, in the request's language; never a 500.
func TestEmojiIsRefusedNotCrashed(t *testing.T) {
	s := MustServer(t)
	var body map[string]any
	if err := json.Unmarshal(sample(t, "loiano", "adesione"), &body); err != nil {
		t.Fatal(err)
	}
	body["firmatario"].(map[string]any)["nome"] = "Fabrizio 😀 Morganti"
	b, _ := json.Marshal(body)
	resp, out := do(t, s, "POST", "/v1/documents/adesione", "application/json", b, "Accept-Language", "en")
	if resp.StatusCode != 422 {
		t.Fatalf("status %d: %s", resp.StatusCode, out)
	}
	var p struct {
		Errors []struct{ Path, Code, Message string } `json:"errors"`
	}
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	for _, e := range p.Errors {
		if e.Path == "$.firmatario.nome" && e.Code == "unprintable" && strings.Contains(e.Message, "😀") && strings.Contains(e.Message, "U+1F600") && strings.Contains(e.Message, "typeface") {
			return
		}
	}
	t.Fatalf("no English unprintable error on $.firmatario.nome naming the emoji: %s", bytes.TrimSpace(out))
}
