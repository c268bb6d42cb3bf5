// Package docs is the document service: it turns a request body into a
// rendered PDF (decode, validate against the template, fill, render) and
// describes the result. The HTTP API and the offline CLI share it.
package docs

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"faldone/internal/faldone"
	"faldone/internal/render"
	"faldone/internal/tmpl"
)

// Renderer renders documents from templates.
type Renderer struct {
	Templates *tmpl.Set
	Version   string           // producing software version
	Now       func() time.Time // if nil, time.Now
}

// Render validates input against kind's template and renders the PDF. The
// result is a pure function of kind, input and template: the same request
// gives byte-identical PDFs. It returns ENOTFOUND for an unknown kind,
// EMALFORMED for a body that is not a JSON object and EINVALID (with every
// offending field) for an input the template refuses.
func (r *Renderer) Render(ctx context.Context, kind faldone.Kind, body []byte, lang string, opts ...Option) (*faldone.Rendered, error) {
	data, err := tmpl.Decode(body)
	if err != nil {
		return nil, err
	}
	return r.RenderData(ctx, kind, data, lang, opts...)
}

// Option adds facts from outside the input to a render.
type Option func(*tmpl.Input)

// Cited prints the archived document a new one cites (nil: nothing): its
// kind, title, subject, date, protocol, id and SHA-256. The same record
// gives the same bytes again on a rerender.
func Cited(rec *faldone.Record) Option {
	return func(in *tmpl.Input) {
		if rec != nil {
			in.Cited = citedMap(rec)
		}
	}
}

// Draft renders an unsealed draft: "BOZZA - documento non firmato" (in the
// document's language) on every page and a footer that claims no signature.
// Every output that will not be sealed must be rendered with it.
func Draft() Option {
	return func(in *tmpl.Input) { in.Draft = true }
}

// Dossier prints the documents of the chain a new document closes, oldest
// first (the chiusura lists the whole dossier: kind, date, protocol, id,
// version and SHA-256 of each). It applies after Cited.
func Dossier(recs []*faldone.Record) Option {
	return func(in *tmpl.Input) {
		if len(recs) == 0 || in.Cited == nil {
			return
		}
		chain := make([]any, 0, len(recs))
		for _, rec := range recs {
			chain = append(chain, citedMap(rec))
		}
		in.Cited["chain"] = chain
	}
}

func citedMap(rec *faldone.Record) map[string]any {
	return map[string]any{
		"id": rec.ID, "sha256": rec.SHA256, "version": rec.Version, "date": rec.Date,
		"kind": string(rec.Kind), "oggetto": rec.Oggetto,
		"protocol_number": rec.Protocol.Number, "protocol_date": rec.Protocol.Date,
	}
}

// RenderData is Render for an input already decoded with tmpl.Decode.
func (r *Renderer) RenderData(ctx context.Context, kind faldone.Kind, data map[string]any, lang string, opts ...Option) (*faldone.Rendered, error) {
	in, err := r.Templates.Validate(string(kind), data, lang)
	if err != nil {
		return nil, err
	}
	if err := CheckConsistency(r.Templates, in.Lang, kind, in.Data); err != nil {
		return nil, err
	}
	return r.RenderInput(ctx, kind, in, opts...)
}

// renderSlots bounds the requests that work at once to one a core and
// one more: their render and, when it asks no server, their seal, and,
// when the archive is on this machine too, their append. More at once
// only share the cores, each taking longer, and hold more memory (a few
// MB each). Waiting requests start in the order they came (a channel
// wakes its blocked senders first in, first out), which keeps the queue
// fair; the one slot more keeps a core busy while a request waits for the
// disk. Measured with the API benchmark on 2 cores against a slot a core
// for the render and seal alone: 10% more letters a second at 8 clients,
// p99 1.5-1.6 times the mean Little's law gives instead of 1.9-2.0.
var renderSlots = make(chan struct{}, cores+1)

// SetProcs lets the Go scheduler run twice as many goroutines at once as
// there are cores, unless GOMAXPROCS says otherwise. A goroutine that waits
// in a system call for the disk (an archive's fsync) keeps its scheduler
// processor until the runtime notices, which it does only after its next
// check (up to 10 ms later on a busy process); with one processor a core,
// a core stays idle through each fsync. With two, the other renders on.
// The render slots stay one a core and one more. A service calls it at
// start. Setting GOMAXPROCS stops the runtime from following later changes
// of the container's CPU limit; a service restarted after one sees it.
//
// It also lets the heap grow to two and a half times what is live before
// the garbage collector runs, unless GOGC says otherwise: a render
// allocates about 0.4 MB, nearly all garbage once the letter is written;
// at 8 clients this gives 6% more letters a second for 9 MiB more memory.
func SetProcs() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(2 * cores)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(150)
	}
}

// cores is the processors the runtime gave the process at start: the
// cores it may use.
var cores = runtime.GOMAXPROCS(0)

// acquireRender waits for a render slot, or for ctx to end.
func acquireRender(ctx context.Context) error {
	select {
	case renderSlots <- struct{}{}:
		return nil
	default:
	}
	select {
	case renderSlots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return &faldone.Error{Code: faldone.EUNAVAILABLE, Message: "the service is busy: the request ended before its render could start; retry", Err: ctx.Err()}
	}
}

func releaseRender() { <-renderSlots }

// RenderInput renders an input already validated with tmpl.Set.Validate,
// in a render slot.
func (r *Renderer) RenderInput(ctx context.Context, kind faldone.Kind, in *tmpl.Input, opts ...Option) (*faldone.Rendered, error) {
	if err := acquireRender(ctx); err != nil {
		return nil, err
	}
	defer releaseRender()
	return r.renderInput(ctx, kind, in, opts...)
}

// renderInput is RenderInput for a caller that holds a render slot.
func (r *Renderer) renderInput(ctx context.Context, kind faldone.Kind, in *tmpl.Input, opts ...Option) (*faldone.Rendered, error) {
	for _, o := range opts {
		o(in)
	}
	filled, err := r.Templates.Fill(string(kind), in)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", kind, err)
	}
	pdf, err := render.Render(ctx, filled.Layout)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", kind, err)
	}
	insum := sha256.Sum256(in.Canonical)
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	return &faldone.Rendered{
		PDF: pdf,
		Document: faldone.Document{
			Kind:     kind,
			Comune:   filled.Comune,
			IPA:      filled.IPA,
			Oggetto:  filled.Oggetto,
			Protocol: filled.Protocol,
			Lang:     in.Lang,
			Date:     filled.Date,
			SHA256:   sha256Hex(pdf),
			Size:     int64(len(pdf)),
			Template: filled.Template.Ref(),
			Input:    in.Canonical,
			InputSHA: hex.EncodeToString(insum[:]),
			Producer: "faldone " + r.Version,
			Created:  now().UTC(),
			// The seal's update keeps these (TestSealedArePDFA).
			Conformance: render.Conformance(),
		},
	}, nil
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns a random, unguessable document id: 130 bits of entropy in
// 26 lower-case characters, which reveal neither order nor count.
func NewID() string {
	var b [17]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return strings.ToLower(idEncoding.EncodeToString(b[:]))[:26]
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
