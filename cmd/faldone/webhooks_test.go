package main_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// receiver is a webhook receiver on 127.0.0.1 that answers as told:
// "fail" with 500, "slow" after the sender's deadline, "ok" with 204.
type receiver struct {
	mu   sync.Mutex
	mode string
	wh   *standardwebhooks.Webhook
	got  []received
}

type received struct {
	id, typ, mode string
	verified      bool
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var ev struct{ Type string }
	json.Unmarshal(body, &ev)
	rc.mu.Lock()
	mode, wh := rc.mode, rc.wh
	rc.mu.Unlock()
	verified := wh != nil && wh.Verify(body, r.Header) == nil
	rc.mu.Lock()
	rc.got = append(rc.got, received{r.Header.Get("webhook-id"), ev.Type, mode, verified})
	rc.mu.Unlock()
	switch mode {
	case "fail":
		http.Error(w, "down for maintenance", 500)
	case "slow":
		time.Sleep(1500 * time.Millisecond)
		w.WriteHeader(204)
	default:
		w.WriteHeader(204)
	}
}

func (rc *receiver) set(mode string) {
	rc.mu.Lock()
	rc.mode = mode
	rc.mu.Unlock()
}

// seen returns the requests of one event type so far.
func (rc *receiver) seen(typ string) []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []received
	for _, g := range rc.got {
		if g.typ == typ {
			out = append(out, g)
		}
	}
	return out
}

func waitFor(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWebhooksAcrossRestart subscribes a receiver on 127.0.0.1 that
// fails, then times out, then recovers, while faldone is killed with
// SIGKILL and started again: the document.sealed event arrives, signed as
// Standard Webhooks says, always with one webhook-id; the delivery log
// shows every attempt; a manual redelivery sends the same id again; a
// batch's end is announced once.
func TestWebhooksAcrossRestart(t *testing.T) {
	bin := buildBinary(t)
	rc := &receiver{mode: "fail"}
	ts := httptest.NewServer(rc)
	defer ts.Close()
	env := []string{"FALDONE_DATA=" + filepath.Join(t.TempDir(), "data"),
		"FALDONE_RENDER_TIMEOUT=2s", "FALDONE_QUEUE_RESCUE_AFTER=8s",
		"FALDONE_WEBHOOK_TIMEOUT=500ms", "FALDONE_WEBHOOK_RETRY_BASE=200ms"}
	run := func(args ...string) string {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("faldone %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	out := run("webhooks", "create", "--url", ts.URL+"/hooks", "--events", "*", "--description", "reporting system")
	subID := regexp.MustCompile(`sub_[a-z2-7]{26}`).FindString(out)
	secret := regexp.MustCompile(`whsec_[A-Za-z0-9+/=]+`).FindString(out)
	if subID == "" || secret == "" {
		t.Fatalf("webhooks create:\n%s", out)
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	rc.wh = wh
	rc.mu.Unlock()
	admin := regexp.MustCompile(`fk_[A-Za-z0-9_-]{43}`).FindString(run("keys", "create", "--role", "admin", "--name", "webhooks test"))

	s := startServer(t, bin, env...)
	if _, code, err := post(http.DefaultClient, s.base, 1); err != nil || code != 201 {
		t.Fatalf("POST document: %d %v", code, err)
	}
	waitFor(t, "two failed attempts", 60*time.Second, func() bool { return len(rc.seen("document.sealed")) >= 2 })
	rc.set("slow")
	// Two slow attempts: the first timed out and was logged.
	waitFor(t, "attempts that time out", 30*time.Second, func() bool {
		n := 0
		for _, g := range rc.seen("document.sealed") {
			if g.mode == "slow" {
				n++
			}
		}
		return n >= 2
	})
	s.kill()
	rc.set("ok")
	s = startServer(t, bin, env...)
	waitFor(t, "the delivery after the restart", 90*time.Second, func() bool {
		g := rc.seen("document.sealed")
		return len(g) > 0 && g[len(g)-1].mode == "ok"
	})
	got := rc.seen("document.sealed")
	for _, g := range got {
		if g.id != got[0].id || !strings.HasPrefix(g.id, "msg_") || !g.verified {
			t.Errorf("attempt %+v: want webhook-id %s and a valid signature", g, got[0].id)
		}
	}
	t.Logf("%d attempts of one event", len(got))

	// The delivery log.
	admin_ := func(method, path string) (int, []byte) {
		req, _ := http.NewRequest(method, s.base+path, nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	var log struct {
		Items []struct {
			ID, Type, State string
			EventID         string `json:"event_id"`
			Attempts        []struct {
				Status int
				Error  string
			}
		}
	}
	waitFor(t, "the delivery log to say delivered", 10*time.Second, func() bool {
		code, b := admin_("GET", "/v1/webhooks/"+subID+"/deliveries")
		if code != 200 {
			t.Fatalf("deliveries: %d %s", code, b)
		}
		json.Unmarshal(b, &log)
		return len(log.Items) == 1 && log.Items[0].State == "delivered"
	})
	d := log.Items[0]
	statuses := map[int]int{}
	for _, a := range d.Attempts {
		statuses[a.Status]++
	}
	if d.EventID != got[0].id || statuses[500] < 2 || statuses[0] < 1 || statuses[204] != 1 || d.Attempts[len(d.Attempts)-1].Status != 204 {
		t.Errorf("delivery log: %+v", d)
	}

	// A manual redelivery sends the same webhook-id again.
	if code, b := admin_("POST", "/v1/webhooks/"+subID+"/deliveries/"+d.ID+"/redeliver"); code != 202 {
		t.Fatalf("redeliver: %d %s", code, b)
	}
	waitFor(t, "the redelivery", 30*time.Second, func() bool { return len(rc.seen("document.sealed")) == len(got)+1 })
	if g := rc.seen("document.sealed"); g[len(g)-1].id != d.EventID {
		t.Errorf("redelivery has webhook-id %s, want %s", g[len(g)-1].id, d.EventID)
	}

	// A batch: one batch.done, after its documents' events.
	resp, err := http.Post(s.base+"/v1/batches", "application/json", bytes.NewReader(batchEnvelope(t, 3)))
	if err != nil || resp.StatusCode != 202 {
		t.Fatalf("POST batch: %v %v", resp, err)
	}
	resp.Body.Close()
	waitFor(t, "batch.done", 60*time.Second, func() bool { return len(rc.seen("batch.done")) == 1 })
	waitFor(t, "the batch's documents", 30*time.Second, func() bool { return len(rc.seen("document.sealed")) == len(got)+1+3 })
	time.Sleep(500 * time.Millisecond)
	if n := len(rc.seen("batch.done")); n != 1 {
		t.Errorf("batch.done sent %d times", n)
	}
}
