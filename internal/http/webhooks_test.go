package http_test

import (
	"bytes"
	"encoding/json"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"faldone/internal/auth"
	fhttp "faldone/internal/http"
	"faldone/internal/pdftest"
)

// TestWebhookEvents subscribes a receiver on 127.0.0.1 through the admin
// API and checks the events of a sealed document, a refused copy and a
// batch, each signed as Standard Webhooks says; and the refusals of the
// admin API.
func TestWebhookEvents(t *testing.T) {
	s := MustServer(t)
	admin := []string{"Authorization", "Bearer " + MustKey(t, s, auth.RoleAdmin, "")}
	var mu sync.Mutex
	var got []map[string]any
	var wh *standardwebhooks.Webhook
	rcv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := wh.Verify(b, r.Header); err != nil {
			t.Errorf("signature: %v", err)
		}
		var ev map[string]any
		json.Unmarshal(b, &ev)
		got = append(got, ev)
		w.WriteHeader(200)
	}))
	defer rcv.Close()
	for _, tc := range []struct {
		body   string
		status int
	}{
		{`{"url": "ftp://example.org", "events": ["*"]}`, 422},
		{`{"url": "` + rcv.URL + `", "events": ["document.nosuch"]}`, 422},
		{`{"url": "` + rcv.URL + `", "events": []}`, 422},
		{`{"url": "` + rcv.URL + `", "events": ["*"], "extra": 1}`, 400},
	} {
		resp, b := do(t, s, "POST", "/v1/webhooks", "application/json", []byte(tc.body), admin...)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d: %s", tc.body, resp.StatusCode, tc.status, b)
		}
	}
	resp, b := do(t, s, "POST", "/v1/webhooks", "application/json", []byte(`{"url": "`+rcv.URL+`", "events": ["document.sealed", "document.refused_copy", "batch.done", "dossier.closed"]}`), admin...)
	if resp.StatusCode != 201 {
		t.Fatalf("subscribe: %d %s", resp.StatusCode, b)
	}
	var created fhttp.WebhookCreated
	json.Unmarshal(b, &created)
	mu.Lock()
	wh, _ = standardwebhooks.NewWebhook(created.Secret)
	mu.Unlock()

	resp, b = do(t, s, "POST", "/v1/documents/adesione", "application/json", sample(t, "loiano", "adesione"))
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	var doc fhttp.DocumentResponse
	json.Unmarshal(b, &doc)
	resp, b = do(t, s, "POST", "/v1/documents/"+doc.ID+"/signed", "application/pdf", []byte("%PDF-1.7 not signed at all"))
	if resp.StatusCode != 422 {
		t.Fatalf("refused copy: %d %s", resp.StatusCode, b)
	}
	resp, b = do(t, s, "POST", "/v1/batches?kind=adesione", "application/json", []byte("["+string(sample(t, "loiano", "adesione"))+"]"))
	if resp.StatusCode != 202 {
		t.Fatalf("batch: %d %s", resp.StatusCode, b)
	}
	var br fhttp.BatchResponse
	json.Unmarshal(b, &br)
	waitBatch(t, s, br.ID)
	// Banari's workflow to its chiusura, which closes the dossier.
	chain := createChain(t, s)
	ch := mutate(t, sample(t, "banari", "chiusura"), func(m map[string]any) { m["approvazione"] = chain["approvazione"].ID })
	if resp, b := do(t, s, "POST", "/v1/documents/chiusura", "application/json", ch); resp.StatusCode != 201 {
		t.Fatalf("chiusura: %d %s", resp.StatusCode, b)
	}

	types := func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		n := map[string]int{}
		for _, ev := range got {
			n[ev["type"].(string)]++
		}
		return n
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		n := types()
		if n["document.sealed"] == 2+5 && n["document.refused_copy"] == 1 && n["batch.done"] == 1 && n["dossier.closed"] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("events: %v", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	for _, ev := range got {
		data := ev["data"].(map[string]any)
		switch ev["type"] {
		case "document.refused_copy":
			if data["id"] != doc.ID || data["comune"] != loiano {
				t.Errorf("refused copy: %v", data)
			}
		case "dossier.closed":
			if data["comune"] != chain["approvazione"].Comune || data["chiusura"].(map[string]any)["kind"] != "chiusura" {
				t.Errorf("dossier.closed: %v", data)
			}
		case "batch.done":
			if data["batch_id"] != br.ID || data["done"] != float64(1) || data["state"] != "done" {
				t.Errorf("batch.done: %v", data)
			}
		}
	}
	mu.Unlock()

	resp, b = do(t, s, "GET", "/v1/webhooks/"+created.Subscription.ID+"/deliveries", "", nil, admin...)
	if resp.StatusCode != 200 {
		t.Fatalf("deliveries: %d %s", resp.StatusCode, b)
	}
	for _, path := range []string{"/v1/webhooks/sub_nosuch", "/v1/webhooks/sub_nosuch/deliveries"} {
		if resp, b := do(t, s, "GET", path, "", nil, admin...); resp.StatusCode != 404 {
			t.Errorf("%s: %d %s", path, resp.StatusCode, b)
		}
	}
	if resp, b := do(t, s, "POST", "/v1/webhooks/"+created.Subscription.ID+"/deliveries/dlv_nosuch/redeliver", "", nil, admin...); resp.StatusCode != 404 {
		t.Errorf("redeliver unknown: %d %s", resp.StatusCode, b)
	}
	if resp, b := do(t, s, "DELETE", "/v1/webhooks/"+created.Subscription.ID, "", nil, admin...); resp.StatusCode != 204 {
		t.Errorf("disable: %d %s", resp.StatusCode, b)
	}
}

// TestIdempotentSignedCopy: a signed copy sent again with its
// Idempotency-Key gets the first answer, where without the key the
// second copy would be refused (the document no longer awaits the
// comune's signature); a subscription sent again is made once.
func TestIdempotentSignedCopy(t *testing.T) {
	s, _ := auditServer(t)
	d := createChain(t, s)
	_, sealed := do(t, s, "GET", d["adesione"].Links["pdf"], "", nil)
	signed := pdftest.Countersign(t, sealed, pdftest.NewPKI(t, "Comune di Banari"))
	key := []string{"Idempotency-Key", "firma-banari-1"}
	r1, b1 := do(t, s, "POST", "/v1/documents/"+d["adesione"].ID+"/signed", "application/pdf", signed, key...)
	r2, b2 := do(t, s, "POST", "/v1/documents/"+d["adesione"].ID+"/signed", "application/pdf", signed, key...)
	if r1.StatusCode != 201 || r2.StatusCode != 201 || !bytes.Equal(b1, b2) || r2.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("signed twice: %d %d\n%s\n%s", r1.StatusCode, r2.StatusCode, b1, b2)
	}
	if r, b := do(t, s, "POST", "/v1/documents/"+d["adesione"].ID+"/signed", "application/pdf", signed); r.StatusCode != 409 {
		t.Errorf("without the key: %d %s", r.StatusCode, b)
	}
	admin := []string{"Authorization", "Bearer " + MustKey(t, s, auth.RoleAdmin, ""), "Idempotency-Key", "sub-1"}
	body := []byte(`{"url": "http://127.0.0.1:9/hooks", "events": ["*"]}`)
	r1, b1 = do(t, s, "POST", "/v1/webhooks", "application/json", body, admin...)
	r2, b2 = do(t, s, "POST", "/v1/webhooks", "application/json", body, admin...)
	if r1.StatusCode != 201 || r2.StatusCode != 201 || !bytes.Equal(b1, b2) {
		t.Fatalf("subscribed twice: %d %d", r1.StatusCode, r2.StatusCode)
	}
	r, b := do(t, s, "GET", "/v1/webhooks", "", nil, admin[:2]...)
	if n := strings.Count(string(b), `"id":"sub_`); r.StatusCode != 200 || n != 1 {
		t.Errorf("%d subscriptions: %s", n, b)
	}
}
