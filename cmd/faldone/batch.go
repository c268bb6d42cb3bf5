package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"faldone/internal/batch"
)

const batchUsage = `faldone batch --kind K --in FILE [flags]

Sends FILE as one batch to a faldone server and follows it with a progress
bar until every item is done, then writes the results CSV and, with --out,
the ZIP of the PDFs. FILE is a JSON array of inputs, NDJSON (.ndjson,
.jsonl) or a CSV (.csv) whose header names fields ("firmatario.nome"
nests), each row merged over the body of --shared. The key comes from
FALDONE_API_KEY or --key-file. Running the same command again follows the
same batch (its Idempotency-Key is the SHA-256 of the request) instead of
making another.

`

// batchCmd is `faldone batch`.
func batchCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("batch", flag.ContinueOnError)
	kind := fs.String("kind", "", "document kind: adesione, assessment, piano, approvazione")
	in := fs.String("in", "", "file of inputs: JSON array, NDJSON or CSV (- for standard input, read as JSON or NDJSON)")
	shared := fs.String("shared", "", "JSON file of the body shared by every item (with a CSV)")
	lang := fs.String("lang", "", "language of the documents: it, en, de")
	server := fs.String("server", env("server", "http://127.0.0.1:8080"), "faldone server (FALDONE_SERVER)")
	keyFile := fs.String("key-file", env("api-key-file", ""), "file holding the staff API key; default: FALDONE_API_KEY (FALDONE_API_KEY_FILE)")
	out := fs.String("out", "", "write the ZIP of the PDFs here when the batch is done")
	results := fs.String("results", "", "write the results CSV here (default: standard output when --out is not set)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if pos, err := parseFlags(fs, args, batchUsage, stdout); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("no_args", "batch", pos)
	}
	if *kind == "" || *in == "" {
		return usagef("needs", "batch", "--kind, --in")
	}
	key := strings.TrimSpace(os.Getenv("FALDONE_API_KEY"))
	if *keyFile != "" {
		b, err := os.ReadFile(*keyFile)
		if err != nil {
			return usageWrap("read", err, *keyFile)
		}
		key = strings.TrimSpace(string(b))
	}
	if key == "" {
		return usagef("needs_api_key", "batch")
	}
	ctype, body, err := batchBody(*in, *shared, *kind, *lang)
	if err != nil {
		return err
	}
	c := &batchClient{base: strings.TrimRight(*server, "/"), key: key, http: &http.Client{Timeout: 0}}
	sum := sha256.Sum256(append([]byte(*kind+"\x00"+*lang+"\x00"+ctype+"\x00"), body...))
	q := url.Values{"kind": {*kind}}
	if *lang != "" {
		q.Set("lang", *lang)
	}
	var b batch.Batch
	resp, err := c.do(http.MethodPost, "/v1/batches?"+q.Encode(), ctype, bytes.NewReader(body), map[string]string{"Idempotency-Key": "cli-" + hex.EncodeToString(sum[:16])}, &b)
	if err != nil {
		return err
	}
	how := "accepted"
	if resp.Header.Get("Idempotent-Replayed") == "true" {
		how = "already sent: following it"
	}
	fmt.Fprintf(stderr, "batch %s: %d %s documents, %s\n", b.ID, b.Total, b.Kind, how)
	bar := progressbar.NewOptions(b.Total,
		progressbar.OptionSetWriter(stderr), progressbar.OptionSetVisibility(!*quiet),
		progressbar.OptionSetDescription(b.Kind), progressbar.OptionShowCount(), progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("doc"), progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(stderr) }))
	final, err := c.follow(b.ID, func(p *batch.Batch) { bar.Set(p.Done + p.Failed + p.Cancelled) })
	if err != nil {
		return err
	}
	bar.Finish()
	fmt.Fprintf(stderr, "batch %s %s: %d done, %d failed, %d cancelled of %d\n", final.ID, final.State, final.Done, final.Failed, final.Cancelled, final.Total)
	if *out != "" {
		if err := c.download("/v1/batches/"+final.ID+"/zip", *out); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "PDFs: %s\n", *out)
	}
	switch {
	case *results != "":
		if err := c.download("/v1/batches/"+final.ID+"/results.csv", *results); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "results: %s\n", *results)
	case *out == "":
		if _, err := c.do(http.MethodGet, "/v1/batches/"+final.ID+"/results.csv", "", nil, nil, stdout); err != nil {
			return err
		}
	}
	if final.Failed > 0 {
		return findingsf("batch_failed", final.Failed, final.Total)
	}
	return nil
}

// batchBody reads the inputs and returns the request's media type and
// body.
func batchBody(in, shared, kind, lang string) (string, []byte, error) {
	var data []byte
	var err error
	if in == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(in)
	}
	if err != nil {
		return "", nil, usageWrap("read", err, in)
	}
	ext := strings.ToLower(filepath.Ext(in))
	switch {
	case ext == ".csv":
		env := batch.Envelope{Kind: kind, Lang: lang, CSV: string(data)}
		if shared != "" {
			sb, err := os.ReadFile(shared)
			if err != nil {
				return "", nil, usageWrap("read", err, shared)
			}
			if err := json.Unmarshal(sb, &env.Shared); err != nil {
				return "", nil, usageWrap("not_object", err, shared)
			}
		}
		b, err := json.Marshal(env)
		return "application/json", b, err
	case shared != "":
		return "", nil, usagef("shared_csv")
	case ext == ".ndjson" || ext == ".jsonl":
		return "application/x-ndjson", data, nil
	case len(bytes.TrimSpace(data)) > 0 && bytes.TrimSpace(data)[0] == '[':
		return "application/json", data, nil
	}
	return "application/x-ndjson", data, nil
}

// batchClient calls a faldone server with a key.
type batchClient struct {
	base, key string
	http      *http.Client
}

// do sends a request; a JSON answer goes into into (a *T), any other
// answer is copied to into (an io.Writer). A problem is an error.
func (c *batchClient) do(method, path, ctype string, body io.Reader, hdr map[string]string, into any) (*http.Response, error) {
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept-Language", userLang()) // problems in the user's language
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err // a *url.Error: the URL and the cause
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var p struct{ Title, Detail string }
		if json.Unmarshal(b, &p) == nil && p.Title != "" {
			return resp, failWrap("http_status", nil, method+" "+path, strings.TrimSpace(fmt.Sprintf("%d %s %s", resp.StatusCode, p.Title, p.Detail)))
		}
		return resp, failWrap("http_status", nil, method+" "+path, strconv.Itoa(resp.StatusCode))
	}
	if w, ok := into.(io.Writer); ok {
		_, err = io.Copy(w, resp.Body)
	} else if into != nil {
		err = json.NewDecoder(resp.Body).Decode(into)
	}
	return resp, err
}

// follow reads the batch's progress events until it is over, calling
// progress on each; when the stream breaks it polls instead.
func (c *batchClient) follow(id string, progress func(*batch.Batch)) (*batch.Batch, error) {
	for attempt := 0; ; attempt++ {
		b, err := c.stream(id, progress)
		if err == nil && b != nil && b.Over() {
			return b, nil
		}
		var p batch.Batch
		if _, err := c.do(http.MethodGet, "/v1/batches/"+id+"?items=false", "", nil, nil, &p); err != nil {
			if attempt > 30 {
				return nil, err
			}
		} else {
			progress(&p)
			if p.Over() {
				return &p, nil
			}
		}
		time.Sleep(time.Second)
	}
}

// stream reads the Server-Sent Events of a batch.
func (c *batchClient) stream(id string, progress func(*batch.Batch)) (*batch.Batch, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, c.base+"/v1/batches/"+id+"/events", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, failWrap("http_status", nil, "GET /v1/batches/"+id+"/events", strconv.Itoa(resp.StatusCode))
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var last *batch.Batch
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var b batch.Batch
		if err := json.Unmarshal([]byte(data), &b); err != nil {
			continue
		}
		last = &b
		progress(&b)
		if b.Over() {
			return &b, nil
		}
	}
	return last, sc.Err()
}

// download writes the answer to a GET into file, atomically.
func (c *batchClient) download(path, file string) error {
	tmp := file + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := c.do(http.MethodGet, path, "", nil, nil, f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}
