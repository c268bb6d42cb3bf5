package audit

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

const testOrigin = "faldone.example/log"

// testKeys returns a signer and verifier for name.
func testKeys(tb testing.TB, name string) (note.Signer, note.Verifier) {
	tb.Helper()
	skey, vkey, err := NewKey(name)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := NewSigner(skey + "\n")
	if err != nil {
		tb.Fatal(err)
	}
	v, err := NewVerifier(" " + vkey + "\n")
	if err != nil {
		tb.Fatal(err)
	}
	return s, v
}

func testCheckpoint(size int) *Checkpoint {
	return &Checkpoint{
		Origin: testOrigin,
		Size:   uint64(size),
		Root:   newRefTree(size).mth(0, size),
		Time:   time.Date(2026, 3, 1, 9, 30, 0, 123456789, time.FixedZone("CET", 3600)),
	}
}

func TestCheckpointMarshal(t *testing.T) {
	cp := testCheckpoint(3)
	text, err := cp.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := testOrigin + "\n3\n" + base64.StdEncoding.EncodeToString(cp.Root) + "\nTimestamp: 2026-03-01T08:30:00.123456789Z\n"
	if string(text) != want {
		t.Fatalf("Marshal =\n%s\nwant\n%s", text, want)
	}
	got, err := ParseCheckpoint(text)
	if err != nil {
		t.Fatal(err)
	}
	if got.Origin != cp.Origin || got.Size != cp.Size || !bytes.Equal(got.Root, cp.Root) || !got.Time.Equal(cp.Time) {
		t.Errorf("ParseCheckpoint = %+v, want %+v", got, cp)
	}

	for _, bad := range []*Checkpoint{
		{Origin: "", Size: 1, Root: cp.Root, Time: cp.Time},
		{Origin: "a\nb", Size: 1, Root: cp.Root, Time: cp.Time},
		{Origin: " a", Size: 1, Root: cp.Root, Time: cp.Time},
		{Origin: "a", Size: 1, Root: cp.Root[:31], Time: cp.Time},
		{Origin: "a", Size: 1, Root: cp.Root},
	} {
		if _, err := bad.Marshal(); err == nil {
			t.Errorf("Marshal(%+v) succeeded", bad)
		}
	}
}

func TestParseCheckpointRejects(t *testing.T) {
	root := base64.StdEncoding.EncodeToString(testLeaf(0))
	for _, tt := range []struct{ name, text string }{
		{"no final newline", "o\n1\n" + root + "\nTimestamp: 2026-03-01T08:30:00Z"},
		{"three lines", "o\n1\n" + root + "\n"},
		{"extra line", "o\n1\n" + root + "\nTimestamp: 2026-03-01T08:30:00Z\nx\n"},
		{"empty origin", "\n1\n" + root + "\nTimestamp: 2026-03-01T08:30:00Z\n"},
		{"leading zero", "o\n01\n" + root + "\nTimestamp: 2026-03-01T08:30:00Z\n"},
		{"signed size", "o\n+1\n" + root + "\nTimestamp: 2026-03-01T08:30:00Z\n"},
		{"hex root", "o\n1\n" + strings.Repeat("ab", 32) + "\nTimestamp: 2026-03-01T08:30:00Z\n"},
		{"short root", "o\n1\n" + base64.StdEncoding.EncodeToString(testLeaf(0)[:31]) + "\nTimestamp: 2026-03-01T08:30:00Z\n"},
		{"no timestamp", "o\n1\n" + root + "\nTime: 2026-03-01T08:30:00Z\n"},
		{"bad timestamp", "o\n1\n" + root + "\nTimestamp: yesterday\n"},
	} {
		if _, err := ParseCheckpoint([]byte(tt.text)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: ParseCheckpoint error = %v, want ErrMalformed", tt.name, err)
		}
	}
}

func TestSignOpen(t *testing.T) {
	signer, verifier := testKeys(t, testOrigin)
	otherSigner, _ := testKeys(t, testOrigin) // same name, other key
	cp := testCheckpoint(21)
	signed, err := Sign(cp, signer)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Open(signed, verifier)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if got.Size != cp.Size || !bytes.Equal(got.Root, cp.Root) || !got.Time.Equal(cp.Time) || got.Origin != cp.Origin {
		t.Errorf("Open = %+v, want %+v", got, cp)
	}

	otherSigned, err := Sign(cp, otherSigner)
	if err != nil {
		t.Fatal(err)
	}
	text, sig, _ := strings.Cut(string(signed), "\n\n")
	// A note signed by both keys opens: the other signature is ignored.
	both, err := note.Sign(&note.Note{Text: text + "\n"}, otherSigner, signer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(both, verifier); err != nil {
		t.Errorf("Open of a note signed by both keys: %v", err)
	}

	for _, tt := range []struct {
		name   string
		signed string
		want   error
	}{
		{"altered size", strings.Replace(text, "\n21\n", "\n22\n", 1) + "\n\n" + sig, ErrBadSignature},
		{"altered root", strings.Replace(text, "\n"+base64.StdEncoding.EncodeToString(cp.Root)+"\n",
			"\n"+base64.StdEncoding.EncodeToString(testLeaf(1))+"\n", 1) + "\n\n" + sig, ErrBadSignature},
		{"forged signature", text + "\n\n" + forgeSig(t, sig), ErrBadSignature},
		{"signed by another key", string(otherSigned), ErrUnknownKey},
		{"unsigned", text + "\n\n", ErrMalformed},
		{"garbage", "hello", ErrMalformed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open([]byte(tt.signed), verifier)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open error = %v, want %v", err, tt.want)
			}
		})
	}

	// A correctly signed note whose text is not a checkpoint.
	junk, err := note.Sign(&note.Note{Text: "not a checkpoint\n"}, signer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(junk, verifier); !errors.Is(err, ErrMalformed) {
		t.Errorf("Open of a signed non-checkpoint: %v, want ErrMalformed", err)
	}
	if _, err := NewSigner("PRIVATE+KEY+nonsense"); err == nil {
		t.Error("NewSigner accepted a malformed key")
	}
	if _, err := NewVerifier("nonsense"); err == nil {
		t.Error("NewVerifier accepted a malformed key")
	}
}

// forgeSig changes the last byte of the Ed25519 signature in a note
// signature line, keeping the key name and hash.
func forgeSig(tb testing.TB, line string) string {
	tb.Helper()
	prefix, b64, ok := strings.Cut(strings.TrimSuffix(line, "\n"), " "+testOrigin+" ")
	if !ok {
		tb.Fatalf("unexpected signature line %q", line)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		tb.Fatal(err)
	}
	raw[len(raw)-1] ^= 0x55
	return prefix + " " + testOrigin + " " + base64.StdEncoding.EncodeToString(raw) + "\n"
}
