package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"faldone/internal/faldone"
	"faldone/internal/pades"
	"faldone/internal/pdftest"
	"faldone/internal/testenv"
)

// browserEnv is a real server on 127.0.0.1 and a headless chromium.
type browserEnv struct {
	*env
	url     string
	browser context.Context
}

func newBrowserEnv(t *testing.T) *browserEnv {
	t.Helper()
	bin := testenv.Tool(t, "chromium")
	e := newEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.server.App().Listener(ln)
	t.Cleanup(func() { e.server.App().ShutdownWithTimeout(5 * time.Second) })

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900),
		// Nothing but the test server: every other host fails to resolve.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(bctx); err != nil { // start the browser
		t.Fatalf("start chromium: %v", err)
	}
	return &browserEnv{env: e, url: "http://" + ln.Addr().String(), browser: bctx}
}

// visitor returns a tab in a fresh browser context: its own cookies.
func (b *browserEnv) visitor(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// Open the tab now: a tab opened by an action lives only as long as
	// that action's context.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// open navigates and checks the status of the page.
func open(t *testing.T, ctx context.Context, url string, status int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(url))
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	if resp.Status != status {
		t.Fatalf("open %s: status %d, want %d", url, resp.Status, status)
	}
}

// submit clicks a form's button or a link and checks the status of the
// page it leads to (after redirects), read from the navigation timing.
func submit(t *testing.T, ctx context.Context, button string, status int64) {
	t.Helper()
	submitWith(t, ctx, button, chromedp.Click(chromedp.CSS(button)), status)
}

// submitWith is submit with another action that leads to a new page.
func submitWith(t *testing.T, ctx context.Context, button string, action chromedp.Action[chromedp.Void], status int64) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.faldoneOld = true`), action); err != nil {
		t.Fatalf("submit %s: %v", button, err)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("submit %s: no new page", button)
		}
		// Errors are expected while the page changes.
		if loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.faldoneOld !== true && document.readyState === "complete"`)); err == nil && loaded {
			break
		}
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`performance.getEntriesByType("navigation")[0].responseStatus`))
	if err != nil {
		t.Fatalf("submit %s: %v", button, err)
	}
	if got != status {
		t.Fatalf("submit %s: status %d, want %d", button, got, status)
	}
}

// screenshot saves a PNG of the whole page in the directory named by
// FALDONE_SCREENSHOTS, when it is set, for people to look at.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("FALDONE_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func wantText(t *testing.T, ctx context.Context, sel string, want ...string) {
	t.Helper()
	got := text(t, ctx, sel)
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s: %q lacks %q", sel, got, w)
		}
	}
}

func upload(t *testing.T, ctx context.Context, input string, pdf []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "document.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS(input), []string{path})); err != nil {
		t.Fatal(err)
	}
}

// a11yScript lists what the page gets wrong of the basics: the page's
// language, one h1, headings without skipped levels, a label for every
// input, the skip link first, and Bootstrap Italia's font applied.
const a11yScript = `(() => {
  const p = [];
  if (!document.documentElement.lang) p.push("html has no lang");
  const h1 = document.querySelectorAll("h1").length;
  if (h1 !== 1) p.push(h1 + " h1 elements");
  let last = 0;
  for (const h of document.querySelectorAll("h1,h2,h3,h4,h5,h6")) {
    const l = +h.tagName[1];
    if (l > last + 1) p.push("heading " + h.tagName + " after h" + last + ": " + h.textContent.trim());
    last = l;
  }
  for (const el of document.querySelectorAll("input,select,textarea")) {
    if (el.type === "hidden") continue;
    const label = el.id && document.querySelector('label[for="' + el.id + '"]');
    if (!(label && label.textContent.trim()) && !el.closest("label") && !el.getAttribute("aria-label")) p.push("input without label: " + (el.id || el.name));
  }
  const first = document.querySelector("a[href],button,input:not([type=hidden])");
  if (!first || first.getAttribute("href") !== "#main" || !document.getElementById("main")) p.push("the skip link is not first");
  if (!getComputedStyle(document.body).fontFamily.includes("Titillium")) p.push("no Bootstrap Italia font: " + getComputedStyle(document.body).fontFamily);
  if (!document.fonts.check('16px "Titillium Web"')) p.push("Titillium Web not loaded");
  return p;
})()`

// axeSource is axe-core (npm, MPL-2.0), installed by .ci/run under
// .ci/npm: the accessibility engine injected into every page state.
func axeSource(t *testing.T) string {
	t.Helper()
	axeOnce.Do(func() {
		axeJS, axeErr = os.ReadFile(filepath.Join("..", "..", ".ci", "npm", "node_modules", "axe-core", "axe.min.js"))
	})
	if axeErr != nil {
		testenv.Missing(t, "axe-core (npm ci --prefix .ci/npm): "+axeErr.Error())
	}
	return string(axeJS)
}

var (
	axeOnce sync.Once
	axeJS   []byte
	axeErr  error
)

// axeRun runs axe-core's WCAG 2.0 and 2.1 A and AA rules on the page and
// returns the engine and the number of rules passed, then the violations,
// one line each.
const axeRun = `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, resultTypes: ["violations"]})
  .then(r => [r.testEngine.name + " " + r.testEngine.version + ": " + r.passes.length + " rules passed"].concat(
    r.violations.map(v => v.id + " (" + v.impact + "): " + v.help + " at " + v.nodes.map(n => n.target.join(" ")).join(", "))))`

// narrowScript measures the page at the current width: the width of the
// document and of any element wider than the window.
const narrowScript = `(() => {
  const w = document.documentElement.clientWidth, out = [];
  // Inside a box clipped to nothing (visually hidden for screen readers).
  const hidden = el => { for (let a = el.parentElement; a; a = a.parentElement) { const s = getComputedStyle(a);
    if (s.overflow === "hidden" && a.getBoundingClientRect().width <= 1) return true; } return false; };
  if (document.documentElement.scrollWidth > w) out.push("the page is " + document.documentElement.scrollWidth + " px wide in a window of " + w);
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.right > w + 1 && getComputedStyle(el).position !== "absolute" && !el.closest(".visually-hidden, .visually-hidden-focusable") && !hidden(el)) {
      out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className ? "." + String(el.className).split(" ").join(".") : "") + " ends at " + Math.round(r.right) + " px");
    }
  }
  return out.slice(0, 5);
})()`

// checkA11y checks a page state: the basics of a11yScript, no WCAG 2.1
// A or AA violation found by axe-core, no horizontal scrolling at 320 px
// (WCAG 1.4.10) and 375 px, and the skip link on the first Tab.
func checkA11y(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	axeCheck(t, ctx, page)
	narrowCheck(t, ctx, page)
	basicsCheck(t, ctx, page)
}

// axeCheck runs axe-core's WCAG 2.0 and 2.1 A and AA rules on the page
// once its fonts are loaded.
func axeCheck(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.fonts.ready`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](axeSource(t))); err != nil {
		t.Fatalf("inject axe-core: %v", err)
	}
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe-core: %v", err)
	}
	if len(violations) == 0 || !strings.HasPrefix(violations[0], "axe-core 4.") || strings.HasPrefix(violations[0], "axe-core 4.14.1: 0 ") {
		t.Fatalf("%s: axe-core did not run: %q", page, violations)
	}
	t.Logf("%s: %s", page, violations[0])
	for _, v := range violations[1:] {
		t.Errorf("%s: axe-core: %s", page, v)
	}
}

// narrowCheck measures the page at 320 and 375 px: the document and
// every element fit the window (WCAG 1.4.10).
func narrowCheck(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	for _, width := range []int64{320, 375} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 700)); err != nil {
			t.Fatal(err)
		}
		wide, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](narrowScript))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range wide {
			t.Errorf("%s at %d px: %s", page, width, w)
		}
		screenshot(t, ctx, fmt.Sprintf("%s-%d.png", strings.NewReplacer(" ", "-", "/", "_").Replace(page), width))
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
}

// basicsCheck checks a11yScript's basics and that the first Tab reaches
// the visible skip link.
func basicsCheck(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](a11yScript))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", page, p)
	}
	// The first Tab reaches the skip link, which shows when focused.
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
		t.Fatal(err)
	}
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const a = document.activeElement; const r = a.getBoundingClientRect();
		return a.getAttribute("href") + " " + (r.width > 10 && r.height > 10) + " " + getComputedStyle(a).outlineStyle; })()`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(focused, "#main true") || strings.HasSuffix(focused, " none") {
		t.Errorf("%s: after Tab the focus is %q, want the visible skip link with an outline", page, focused)
	}
}

func TestBrowser(t *testing.T) {
	b := newBrowserEnv(t)
	rec, sealed := b.create(t, "loiano", "adesione")
	other, _ := b.create(t, "banari", "adesione")

	t.Run("verify a sealed document", func(t *testing.T) {
		ctx := b.visitor(t)
		open(t, ctx, b.url+"/", 200) // redirected to /verifica
		checkA11y(t, ctx, "/verifica")
		upload(t, ctx, "#pdf", sealed)
		submit(t, ctx, "#verify-form button", 200)
		wantText(t, ctx, "#verdict", "Documento valido")
		wantText(t, ctx, "#signatures", "sigillo elettronico di faldone development seal", "Integra", "Attendibile")
		wantText(t, ctx, "#archive", "Loiano", "037034", rec.ID, "versione 1", "Il file è esattamente la versione archiviata", "prodotta conforme a PDF/A-2b", "registro di audit è provata")
		wantText(t, ctx, "#changes", "Nulla")
		wantText(t, ctx, "#file-facts", rec.SHA256)
		checkA11y(t, ctx, "the report")
	})

	t.Run("verify a tampered copy", func(t *testing.T) {
		sigs, err := pades.Inspect(sealed)
		if err != nil {
			t.Fatal(err)
		}
		at := bytes.Index(sealed, []byte("stream\n")) + len("stream\n") + 10
		if at < 20 || int64(at) >= sigs[0].ByteRange[1] {
			t.Fatal("no stream in the signed range")
		}
		bad := bytes.Clone(sealed)
		bad[at] ^= 1
		ctx := b.visitor(t)
		open(t, ctx, b.url+"/verifica", 200)
		upload(t, ctx, "#pdf", bad)
		submit(t, ctx, "#verify-form button", 200)
		wantText(t, ctx, "#verdict", "Documento non valido")
		wantText(t, ctx, "#problems", "i byte firmati sono stati modificati dopo la firma")
		wantText(t, ctx, "#changes", "Il contenuto sigillato è stato modificato")
		wantText(t, ctx, "#archive", "non corrisponde a nessun documento archiviato")
		if role, _ := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#verdict"), "role")); role.Value != "alert" {
			t.Errorf("verdict role %q", role.Value)
		}
		checkA11y(t, ctx, "the report of a tampered copy")
		upload(t, ctx, "#pdf", []byte("not a PDF"))
		submit(t, ctx, "#verify-form button", 422)
		wantText(t, ctx, "#error", "non è un PDF leggibile")
		checkA11y(t, ctx, "the refusal of a file that is not a PDF")
	})

	t.Run("a file over the limit", func(t *testing.T) {
		// Larger than POST /v1/verify takes (20 MiB): the API refuses it by
		// its declared length before the page's handler runs, and the
		// browser shows the verification page again, saying the limit.
		ctx := b.visitor(t)
		open(t, ctx, b.url+"/verifica", 200)
		wantText(t, ctx, "#pdf-help", "al massimo 20 MB")
		big := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("0"), 21<<20)...)
		upload(t, ctx, "#pdf", big)
		submit(t, ctx, "#verify-form button", 413)
		wantText(t, ctx, "#error", "Il file supera 20 MB, il massimo che questa pagina accetta", "faldone verify")
		if body := text(t, ctx, "body"); strings.Contains(body, "problem") || strings.Contains(body, `"status"`) {
			t.Errorf("the page shows the API's problem: %.300s", body)
		}
		checkA11y(t, ctx, "a file over the limit")
		// In German, the same.
		open(t, ctx, b.url+"/verifica?lang=de", 200)
		upload(t, ctx, "#pdf", big)
		submit(t, ctx, "#verify-form button", 413)
		wantText(t, ctx, "#error", "Die Datei ist größer als 20 MB")
		checkA11y(t, ctx, "German, a file over the limit")
		// A path that does not exist is a page too.
		open(t, ctx, b.url+"/comune/nothing-here", 404)
		wantText(t, ctx, "#error", "Die Seite existiert nicht")
		checkA11y(t, ctx, "German, no such page")
	})

	t.Run("a comune downloads and returns its signed copy", func(t *testing.T) {
		ctx := b.visitor(t)
		open(t, ctx, b.url+"/comune", 200)
		checkA11y(t, ctx, "sign-in")
		if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#key"), b.keyOf(loiano))); err != nil {
			t.Fatal(err)
		}
		submit(t, ctx, "#login-form button", 200)
		wantText(t, ctx, "#who", "Loiano")
		wantText(t, ctx, "#doc-"+rec.ID, "Lettera di adesione", "In attesa della firma del Comune")
		if strings.Contains(text(t, ctx, "main"), other.ID) {
			t.Fatal("the dossier shows another comune's document")
		}
		checkA11y(t, ctx, "dossier")

		// Download: the browser saves the archived bytes.
		dir := t.TempDir()
		progress := chromedp.BrowserEvents(ctx, browser.DownloadProgress)
		if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: new(true),
			BrowserContextID: chromedp.FromContext(ctx).BrowserContextID,
		}); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#doc-"+rec.ID+" a.download"))); err != nil {
			t.Fatal(err)
		}
		var got []byte
		for ev, err := range progress {
			if err != nil {
				t.Fatal(err)
			}
			if ev.State == browser.DownloadProgressStateCanceled {
				t.Fatal("download canceled")
			}
			if ev.State == browser.DownloadProgressStateCompleted {
				if got, err = os.ReadFile(filepath.Join(dir, ev.GUID)); err != nil {
					t.Fatal(err)
				}
				break
			}
		}
		if sum := sha256.Sum256(got); hex.EncodeToString(sum[:]) != rec.SHA256 {
			t.Fatalf("downloaded %d bytes, SHA-256 %x, want %s", len(got), sum, rec.SHA256)
		}

		// A copy with no signature added is refused, with the reason.
		upload(t, ctx, "#signed-"+rec.ID, got)
		submit(t, ctx, "#doc-"+rec.ID+" .upload-form button", 422)
		wantText(t, ctx, "#refused", rec.ID, "Non è stata aggiunta alcuna firma")
		checkA11y(t, ctx, "dossier after a refused copy")

		// The comune signs the downloaded copy and sends it back.
		signed := pdftest.Countersign(t, got, pdftest.NewPKI(t, "Comune di Loiano"))
		upload(t, ctx, "#signed-"+rec.ID, signed)
		submit(t, ctx, "#doc-"+rec.ID+" .upload-form button", 200)
		wantText(t, ctx, "#accepted", "Copia firmata accettata", rec.ID, "versione 2")
		wantText(t, ctx, "#doc-"+rec.ID+"-v2", "Firma del Comune", "Firmato dal Comune",
			"Firmato da Comune di Loiano, certificato emesso da Comune di Loiano CA: NON attendibile (non risale a un'autorità di certificazione attendibile).")
		screenshot(t, ctx, "dossier-signed.png")
		checkA11y(t, ctx, "dossier after an accepted signed copy")
		if latest, err := b.svc.Latest(context.Background(), rec.ID); err != nil || latest.Version != 2 || faldone.State(latest) != faldone.StateSignedComune || latest.Actor != "sindaco "+loiano {
			t.Fatalf("archived %+v (%v)", latest, err)
		}

		// Another comune's documents: not in the dossier, and a crafted
		// URL answers as for a document that does not exist.
		open(t, ctx, b.url+"/comune/documenti/"+other.ID+"/pdf", 404)
		wantText(t, ctx, "#error", "Documento non trovato")
		checkA11y(t, ctx, "the error page")

		// The signed copy verifies as the archived version 2, with the
		// changes after the seal allowed.
		open(t, ctx, b.url+"/verifica", 200)
		upload(t, ctx, "#pdf", signed)
		submit(t, ctx, "#verify-form button", 200)
		wantText(t, ctx, "#changes", "modifiche consentite dal sigillo")
		wantText(t, ctx, "#archive", rec.ID, "versione 2")
		wantText(t, ctx, "#signatures", "Certificato emesso da Comune di Loiano CA.", "Certificato non qualificato", "L'attendibilità è stata decisa al")
		screenshot(t, ctx, "verifica-signed.png")
		checkA11y(t, ctx, "the report of a countersigned copy")

		open(t, ctx, b.url+"/comune", 200)
		submit(t, ctx, "#logout-form button", 200)
		wantText(t, ctx, "#info", "Uscita effettuata")
		checkA11y(t, ctx, "signed out")
	})

	t.Run("a wrong key is refused", func(t *testing.T) {
		ctx := b.visitor(t)
		open(t, ctx, b.url+"/comune", 200)
		// With the keyboard only: type the key and press Enter.
		submitWith(t, ctx, "#key", chromedp.SendKeys(chromedp.CSS("#key"), "not-a-key\r"), 401)
		wantText(t, ctx, "#error", "Chiave di accesso non riconosciuta")
		checkA11y(t, ctx, "a refused key")
		open(t, ctx, b.url+"/comune/documenti/"+rec.ID+"/pdf", 401)
	})

	t.Run("the API reference", func(t *testing.T) {
		// /docs is served by the API beside the pages: Redoc, from the binary.
		ctx := b.visitor(t)
		open(t, ctx, b.url+"/docs", 200)
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(".api-content"))); err != nil {
			t.Fatal(err)
		}
		// Redoc's own layout (its headings, no skip link) is not held to
		// the pages' basics; axe-core's rules and the width are.
		axeCheck(t, ctx, "API reference")
		for _, width := range []int64{320, 375} {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 700)); err != nil {
				t.Fatal(err)
			}
			// Code samples scroll in their own boxes; the page must not.
			w, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`))
			if err != nil {
				t.Fatal(err)
			}
			if w > width {
				t.Errorf("API reference at %d px: the page is %d px wide", width, w)
			}
			if dir := os.Getenv("FALDONE_SCREENSHOTS"); dir != "" {
				png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("API-reference-%d.png", width)), png, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	})

	t.Run("switch to English", func(t *testing.T) {
		ctx := b.visitor(t)
		open(t, ctx, b.url+"/verifica", 200)
		submit(t, ctx, "#lang-en", 200)
		wantText(t, ctx, "h1", "Verify a document")
		lang, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
		if err != nil || lang != "en" {
			t.Errorf("lang %q (%v)", lang, err)
		}
		open(t, ctx, b.url+"/comune", 200)
		wantText(t, ctx, "h1", "Documents of the comune")
		wantText(t, ctx, "#lang-it", "Italiano")
		wantText(t, ctx, "#lang-de", "Deutsch")
		checkA11y(t, ctx, "English sign-in")
	})

	t.Run("German", func(t *testing.T) {
		ctx := b.visitor(t)
		open(t, ctx, b.url+"/verifica", 200)
		submit(t, ctx, "#lang-de", 200)
		wantText(t, ctx, "h1", "Ein Dokument überprüfen")
		wantText(t, ctx, "#pdf-help", "höchstens", "faldone verify")
		if lang, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`)); err != nil || lang != "de" {
			t.Errorf("lang %q (%v)", lang, err)
		}
		checkA11y(t, ctx, "German verification page")
		upload(t, ctx, "#pdf", sealed)
		submit(t, ctx, "#verify-form button", 200)
		wantText(t, ctx, "#verdict", "Gültiges Dokument")
		wantText(t, ctx, "#signatures", "elektronisches Siegel", "Unversehrt", "Vertrauenswürdig")
		wantText(t, ctx, "#archive", "Loiano", rec.ID, "Version 1", "nachgewiesen")
		wantText(t, ctx, "#changes", "Nichts")
		checkA11y(t, ctx, "German report")
		// The sign-in page, in German from the cookie.
		open(t, ctx, b.url+"/comune", 200)
		wantText(t, ctx, "h1", "Dokumente der Gemeinde")
		if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#key"), b.keyOf(loiano))); err != nil {
			t.Fatal(err)
		}
		submit(t, ctx, "#login-form button", 200)
		wantText(t, ctx, "#doc-"+rec.ID, "Beitrittsschreiben")
		checkA11y(t, ctx, "German dossier")
	})
}
