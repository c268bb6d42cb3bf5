package batch

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"mime"
	"strings"

	"faldone/internal/faldone"
)

// Envelope is the JSON object form of a batch: the kind, the language,
// a body shared by every item and the items, as JSON objects or as a CSV
// whose columns are fields ("firmatario.nome" nests). Each item is merged
// over the shared body.
type Envelope struct {
	Kind   string            `json:"kind,omitempty"`   // Optional: else ?kind=.
	Lang   string            `json:"lang,omitempty"`   // Optional.
	Shared map[string]any    `json:"shared,omitempty"` // Optional.
	Items  []json.RawMessage `json:"items,omitempty"`  // Items or CSV.
	CSV    string            `json:"csv,omitempty"`
}

// Parse reads the body of POST /v1/batches by its media type: a JSON
// array of inputs, an [Envelope], NDJSON (application/x-ndjson, one input
// per line) or CSV (text/csv, a header of field names). It returns the
// envelope's kind and language ("" when absent) and the items as JSON
// objects. Errors are EMALFORMED or EUNSUPPORTED, naming the line.
func Parse(contentType string, body []byte) (kind, lang string, items [][]byte, err error) {
	mt, _, perr := mime.ParseMediaType(contentType)
	if perr != nil {
		mt = strings.ToLower(strings.TrimSpace(contentType))
	}
	switch {
	case mt == "application/x-ndjson" || mt == "application/jsonl" || mt == "application/jsonlines":
		for i, l := range bytes.Split(body, []byte("\n")) {
			l = bytes.TrimSpace(l)
			if len(l) == 0 {
				continue
			}
			if !isObject(l) {
				return "", "", nil, faldone.Errorf(faldone.EMALFORMED, "line %d of the NDJSON is not a JSON object", i+1)
			}
			items = append(items, l)
		}
		return "", "", items, nil
	case mt == "text/csv":
		items, err = parseCSV(string(body), nil)
		return "", "", items, err
	case mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")):
	default:
		return "", "", nil, faldone.Errorf(faldone.EUNSUPPORTED, "a batch is application/json, application/x-ndjson or text/csv, not %q", contentType)
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var raw []json.RawMessage
		if err := json.Unmarshal(trimmed, &raw); err != nil {
			return "", "", nil, faldone.Errorf(faldone.EMALFORMED, "the body is not a JSON array of objects: %v", err)
		}
		for i, r := range raw {
			if !isObject(r) {
				return "", "", nil, faldone.Errorf(faldone.EMALFORMED, "item %d of the array is not a JSON object", i+1)
			}
			items = append(items, compact(r))
		}
		return "", "", items, nil
	}
	var env Envelope
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil || dec.More() {
		return "", "", nil, faldone.Errorf(faldone.EMALFORMED, "the body must be a JSON array of inputs or an object with kind, lang, shared and items or csv")
	}
	if (len(env.Items) > 0) == (env.CSV != "") {
		return "", "", nil, faldone.Errorf(faldone.EMALFORMED, "give either items or csv")
	}
	if env.CSV != "" {
		items, err = parseCSV(env.CSV, env.Shared)
		return env.Kind, env.Lang, items, err
	}
	for i, r := range env.Items {
		var m map[string]any
		if !isObject(r) || json.Unmarshal(r, &m) != nil {
			return "", "", nil, faldone.Errorf(faldone.EMALFORMED, "item %d is not a JSON object", i+1)
		}
		b, err := json.Marshal(merge(clone(env.Shared), m))
		if err != nil {
			return "", "", nil, faldone.Errorf(faldone.EMALFORMED, "item %d: %v", i+1, err)
		}
		items = append(items, b)
	}
	return env.Kind, env.Lang, items, nil
}

// parseCSV turns a CSV with a header of field names into JSON objects,
// each merged over shared. Empty cells are left out.
func parseCSV(text string, shared map[string]any) ([][]byte, error) {
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = 0
	header, err := r.Read()
	if err != nil {
		return nil, faldone.Errorf(faldone.EMALFORMED, "the CSV has no header row of field names")
	}
	for i, h := range header {
		header[i] = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if header[i] == "" {
			return nil, faldone.Errorf(faldone.EMALFORMED, "column %d of the CSV header has no name", i+1)
		}
	}
	var out [][]byte
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, faldone.Errorf(faldone.EMALFORMED, "the CSV: %v", err)
		}
		m := clone(shared)
		for i, v := range rec {
			if v = strings.TrimSpace(v); v != "" {
				set(m, strings.Split(header[i], "."), v)
			}
		}
		b, err := json.Marshal(m)
		if err != nil {
			return nil, faldone.Errorf(faldone.EMALFORMED, "line %d of the CSV: %v", line, err)
		}
		out = append(out, b)
	}
	return out, nil
}

func isObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}

func compact(b []byte) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return b
	}
	return buf.Bytes()
}

// clone deep-copies a JSON object.
func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			v = clone(sub)
		}
		out[k] = v
	}
	return out
}

// merge sets every field of over in base, objects merged field by field.
func merge(base, over map[string]any) map[string]any {
	for k, v := range over {
		if sub, ok := v.(map[string]any); ok {
			if b, ok := base[k].(map[string]any); ok {
				base[k] = merge(b, sub)
				continue
			}
		}
		base[k] = v
	}
	return base
}

// set sets the field at path in m, making objects on the way.
func set(m map[string]any, path []string, v any) {
	for _, p := range path[:len(path)-1] {
		sub, ok := m[p].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[p] = sub
		}
		m = sub
	}
	m[path[len(path)-1]] = v
}
