package audit

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// Checkpoint is a commitment to the state of the log: its first Size leaves
// have root Root, as of Time.
type Checkpoint struct {
	// Origin names the log; it SHOULD be the name of the log's key.
	Origin string
	Size   uint64
	Root   []byte
	Time   time.Time
}

// timestampPrefix starts the extension line that carries Checkpoint.Time.
const timestampPrefix = "Timestamp: "

// Errors returned, wrapped, by [Open] and [ParseCheckpoint]; test with
// errors.Is.
var (
	// ErrMalformed: the note or the checkpoint text cannot be parsed.
	ErrMalformed = errors.New("malformed checkpoint")
	// ErrBadSignature: the note carries a signature by the log's key that
	// does not verify: the text was altered or the signature forged.
	ErrBadSignature = errors.New("checkpoint signature does not verify")
	// ErrUnknownKey: the note carries no signature by the log's key (for
	// instance only a valid signature by another key).
	ErrUnknownKey = errors.New("checkpoint not signed by the log key")
)

// Marshal returns the checkpoint body in the transparency-dev checkpoint
// format, with the time as an extension line:
//
//	<origin>
//	<size, decimal>
//	<root, standard base64>
//	Timestamp: <time, RFC 3339 in UTC with nanoseconds>
func (c *Checkpoint) Marshal() ([]byte, error) {
	if c.Origin == "" || strings.ContainsAny(c.Origin, "\n\r") || strings.TrimSpace(c.Origin) != c.Origin {
		return nil, fmt.Errorf("marshal checkpoint: invalid origin %q", c.Origin)
	}
	if len(c.Root) != HashSize {
		return nil, fmt.Errorf("marshal checkpoint: root: %w", ErrBadHash)
	}
	if c.Time.IsZero() {
		return nil, errors.New("marshal checkpoint: zero time")
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n%d\n%s\n%s%s\n", c.Origin, c.Size,
		base64.StdEncoding.EncodeToString(c.Root),
		timestampPrefix, c.Time.UTC().Format(time.RFC3339Nano))
	return b.Bytes(), nil
}

// ParseCheckpoint parses a checkpoint body written by [Checkpoint.Marshal].
// It is strict: exactly four lines, canonical decimal size, a 32-byte root
// and the timestamp line, so that a body has a single reading. It checks no
// signature; use [Open] for signed notes.
func ParseCheckpoint(text []byte) (*Checkpoint, error) {
	s := string(text)
	if !strings.HasSuffix(s, "\n") {
		return nil, fmt.Errorf("parse checkpoint: %w: no final newline", ErrMalformed)
	}
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if len(lines) != 4 {
		return nil, fmt.Errorf("parse checkpoint: %w: %d lines, want 4", ErrMalformed, len(lines))
	}
	c := &Checkpoint{Origin: lines[0]}
	if c.Origin == "" {
		return nil, fmt.Errorf("parse checkpoint: %w: empty origin", ErrMalformed)
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil || strconv.FormatUint(size, 10) != lines[1] {
		return nil, fmt.Errorf("parse checkpoint: %w: size %q", ErrMalformed, lines[1])
	}
	c.Size = size
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != HashSize {
		return nil, fmt.Errorf("parse checkpoint: %w: root %q", ErrMalformed, lines[2])
	}
	c.Root = root
	ts, ok := strings.CutPrefix(lines[3], timestampPrefix)
	if !ok {
		return nil, fmt.Errorf("parse checkpoint: %w: no timestamp line", ErrMalformed)
	}
	if c.Time, err = time.Parse(time.RFC3339Nano, ts); err != nil {
		return nil, fmt.Errorf("parse checkpoint: %w: timestamp: %v", ErrMalformed, err)
	}
	return c, nil
}

// Sign returns the checkpoint as a signed note, signed by signer (the log's
// Ed25519 key, see [NewSigner]).
func Sign(cp *Checkpoint, signer note.Signer) ([]byte, error) {
	text, err := cp.Marshal()
	if err != nil {
		return nil, fmt.Errorf("sign checkpoint: %w", err)
	}
	msg, err := note.Sign(&note.Note{Text: string(text)}, signer)
	if err != nil {
		return nil, fmt.Errorf("sign checkpoint: %w", err)
	}
	return msg, nil
}

// Open verifies a signed checkpoint note against the log's verifier and
// parses it. It fails with [ErrBadSignature] when a signature by the log's
// key does not verify (altered text, forged signature), [ErrUnknownKey]
// when no signature is by the log's key, and [ErrMalformed] when the note
// or the checkpoint text cannot be parsed. Signatures by other keys next to
// a valid one are ignored.
func Open(signed []byte, verifier note.Verifier) (*Checkpoint, error) {
	if verifier == nil {
		return nil, errors.New("open checkpoint: nil verifier")
	}
	n, err := note.Open(signed, note.VerifierList(verifier))
	if err != nil {
		var invalid *note.InvalidSignatureError
		var unverified *note.UnverifiedNoteError
		switch {
		case errors.As(err, &invalid):
			return nil, fmt.Errorf("open checkpoint: %w: %v", ErrBadSignature, err)
		case errors.As(err, &unverified):
			var by []string
			for _, s := range unverified.Note.UnverifiedSigs {
				by = append(by, fmt.Sprintf("%s+%08x", s.Name, s.Hash))
			}
			return nil, fmt.Errorf("open checkpoint: %w %s+%08x (signed by %s)", ErrUnknownKey,
				verifier.Name(), verifier.KeyHash(), strings.Join(by, ", "))
		default:
			return nil, fmt.Errorf("open checkpoint: %w: %v", ErrMalformed, err)
		}
	}
	cp, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return nil, fmt.Errorf("open checkpoint: %w", err)
	}
	return cp, nil
}

// NewKey generates an Ed25519 key pair for a log named name and returns
// it as note key strings: skey is secret ("PRIVATE+KEY+<name>+...") and
// MUST be stored like any other secret; vkey is public and goes to
// auditors.
func NewKey(name string) (skey, vkey string, err error) {
	skey, vkey, err = note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", "", fmt.Errorf("new key: %w", err)
	}
	return skey, vkey, nil
}

// NewSigner parses a secret key string made by [NewKey]. Surrounding white
// space (a trailing newline in a key file) is ignored.
func NewSigner(skey string) (note.Signer, error) {
	s, err := note.NewSigner(strings.TrimSpace(skey))
	if err != nil {
		return nil, fmt.Errorf("load signer key: %w", err)
	}
	return s, nil
}

// NewVerifier parses a public key string made by [NewKey]. Surrounding
// white space is ignored.
func NewVerifier(vkey string) (note.Verifier, error) {
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return nil, fmt.Errorf("load verifier key: %w", err)
	}
	return v, nil
}
