package main

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"syscall"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"faldone/internal/faldone"
)

// The CLI's own messages on standard error are in locales/active.*.toml, a
// go-i18n bundle; their texts are fmt formats filled by the commands.
//
//go:embed locales/active.*.toml
var cliLocales embed.FS

// cliLanguages are the languages of the CLI's messages; English is the
// fallback.
var cliLanguages = []string{"it", "en", "de"}

// cliMessages loads the bundle once and returns a localizer per language
// and the message ids of each language, or the error of a broken file.
var cliMessages = sync.OnceValues(func() (map[string]*i18n.Localizer, error) {
	b := i18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	out := map[string]*i18n.Localizer{}
	ids := map[string]map[string]bool{}
	for _, l := range cliLanguages {
		mf, err := b.LoadMessageFileFS(cliLocales, "locales/active."+l+".toml")
		if err != nil {
			return nil, err
		}
		ids[l] = map[string]bool{}
		for _, m := range mf.Messages {
			ids[l][m.ID] = true
		}
		out[l] = i18n.NewLocalizer(b, l)
	}
	for _, l := range cliLanguages {
		for id := range ids["en"] {
			if !ids[l][id] {
				return nil, fmt.Errorf("locales/active.%s.toml: no message %q", l, id)
			}
		}
		if len(ids[l]) != len(ids["en"]) {
			return nil, fmt.Errorf("locales/active.%s.toml: messages that active.en.toml lacks", l)
		}
	}
	return out, nil
})

// msg returns the CLI's message id in lang (English when lang is none of
// cliLanguages) with args filled in.
func msg(lang, id string, args ...any) string {
	locs, err := cliMessages()
	if err != nil {
		panic(err) // the embedded files are checked by TestCLIMessages
	}
	loc, ok := locs[lang]
	if !ok {
		loc = locs["en"]
	}
	text, err := loc.Localize(&i18n.LocalizeConfig{MessageID: id})
	if err != nil {
		return id
	}
	return fmt.Sprintf(text, args...)
}

// cliError is a failure of a command in the CLI's words: a message id of
// locales/active.*.toml with its arguments, and the error it comes from,
// which errors.Is and errors.As see.
type cliError struct {
	id   string
	args []any
	err  error
}

func (e *cliError) Error() string {
	if e.err == nil || e.err == errFindings {
		return msg("en", e.id, e.args...)
	}
	return msg("en", e.id, e.args...) + ": " + e.err.Error()
}

func (e *cliError) Unwrap() error { return e.err }

// failWrap returns err introduced by the CLI's message id.
func failWrap(id string, err error, args ...any) error {
	return &cliError{id: id, args: args, err: err}
}

// findingsf returns a negative verdict or findings (exit status 1) told
// by the CLI's message id.
func findingsf(id string, args ...any) error {
	return &cliError{id: id, args: args, err: errFindings}
}

// bad returns an invalid setting told by message id "setting."+id.
func bad(id string, args ...any) *cliError {
	return &cliError{id: "setting." + id, args: args}
}

// settingErrors are the invalid settings of a command, each in the CLI's
// words.
type settingErrors []*cliError

func (s settingErrors) Error() string {
	parts := make([]string, len(s))
	for i, e := range s {
		parts[i] = e.Error()
	}
	return "invalid settings: " + strings.Join(parts, "; ")
}

func (s settingErrors) Unwrap() []error {
	out := make([]error, len(s))
	for i, e := range s {
		out[i] = e
	}
	return out
}

// explain returns err in lang, from the outermost error to its cause: the
// CLI's own errors and the domain's errors (faldone.Error, by message id
// or code) in the locale files' words; of the standard library's, the
// flag package's mistakes, a file's error (path and what happened), a
// connection's (address and what happened), a host that does not resolve
// and a deadline. The English text of any other error is not shown: the
// words before it tell what failed, or, with none, "unexpected error"
// (FALDONE_DEBUG=1 prints the whole chain).
func explain(lang string, err error) string {
	var out string
	add := func(s string) {
		if out != "" {
			out += ": "
		}
		out += s
	}
	for err != nil {
		if err == errFindings { // the verdict is told by the lead
			break
		}
		switch e := err.(type) {
		case *usageError:
			add(msg(lang, e.id, e.args...))
			err = e.err
			continue
		case *cliError:
			add(msg(lang, e.id, e.args...))
			err = e.err
			continue
		case *faldone.Error:
			add(domainText(lang, e))
			// The cause of a domain error is worth telling only when it is
			// one of the causes explained here (a file, a connection).
			if cause := knownCause(e.Err); cause != nil {
				err = cause
				continue
			}
			return out
		case *fs.PathError:
			add(msg(lang, "file", e.Path, errnoText(lang, e.Err)))
			return out
		case *net.OpError:
			where := e.Op
			if e.Addr != nil {
				where = e.Addr.String()
			}
			add(msg(lang, "connect", where, errnoText(lang, e.Err)))
			return out
		case *net.DNSError:
			add(msg(lang, "host_unknown", e.Name))
			return out
		case *url.Error:
			add(msg(lang, "url", redact(e.URL)))
			err = e.Err
			continue
		case syscall.Errno:
			add(errnoText(lang, e))
			return out
		case settingErrors:
			parts := make([]string, len(e))
			for i, se := range e {
				parts[i] = explain(lang, se)
			}
			add(strings.Join(parts, "; "))
			return out
		}
		if text := flagText(lang, err.Error()); text != "" {
			add(text)
			return out
		}
		if errors.Is(err, context.DeadlineExceeded) && errors.Unwrap(err) == nil {
			add(msg(lang, "timeout"))
			return out
		}
		// An error of another kind: what it wraps may be known.
		if next := unwrapKnown(err); next != nil {
			err = next
			continue
		}
		// Nothing known: the words so far tell what failed; with none,
		// say that it was unexpected.
		if out == "" {
			add(msg(lang, "unexpected"))
		}
		return out
	}
	return out
}

// unwrapKnown returns what err wraps, or of the errors it joins the first
// whose chain explain knows; nil when err wraps nothing.
func unwrapKnown(err error) error {
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return u.Unwrap()
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if knownCause(e) != nil {
				return e
			}
		}
	}
	return nil
}

// knownCause returns the first error of err's chain that explain tells in
// words (a file, a connection, a host, a deadline, a flag), or nil.
func knownCause(err error) error {
	for e := err; e != nil; e = errors.Unwrap(e) {
		switch e.(type) {
		case *fs.PathError, *net.OpError, *net.DNSError, syscall.Errno, *faldone.Error, *cliError, *usageError:
			return e
		}
		if flagText("en", e.Error()) != "" {
			return e
		}
	}
	return nil
}

// domainText returns a domain error in lang: its message id, else its
// code's title, from the templates' locale files.
func domainText(lang string, e *faldone.Error) string {
	loc := localizer()
	if loc == nil {
		return msg(lang, "unexpected")
	}
	if e.MessageID != "" {
		if t := loc(lang, e.MessageID, e.Params); t != e.MessageID {
			return t
		}
	}
	if t := loc(lang, "error."+e.Code, nil); t != "error."+e.Code {
		return t
	}
	return msg(lang, "unexpected")
}

// errnoText says a system error in lang.
func errnoText(lang string, err error) string {
	var n syscall.Errno
	if !errors.As(err, &n) {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
			return msg(lang, "timeout")
		}
		var dns *net.DNSError
		if errors.As(err, &dns) {
			return msg(lang, "host_unknown", dns.Name)
		}
		return msg(lang, "unexpected")
	}
	if name, ok := errnoNames[n]; ok {
		return msg(lang, "errno."+name)
	}
	return msg(lang, "errno.other", int(n))
}

var errnoNames = map[syscall.Errno]string{
	syscall.ENOENT: "ENOENT", syscall.EACCES: "EACCES", syscall.EPERM: "EPERM",
	syscall.EISDIR: "EISDIR", syscall.ENOTDIR: "ENOTDIR", syscall.EROFS: "EROFS",
	syscall.ENOSPC: "ENOSPC", syscall.EEXIST: "EEXIST", syscall.ECONNREFUSED: "ECONNREFUSED",
	syscall.ECONNRESET: "ECONNRESET", syscall.EHOSTUNREACH: "EHOSTUNREACH",
	syscall.ENETUNREACH: "ENETUNREACH", syscall.ETIMEDOUT: "ETIMEDOUT", syscall.EADDRINUSE: "EADDRINUSE",
}

// The flag package's errors, which it makes with fmt.Errorf only.
var (
	flagUnknown   = regexp.MustCompile(`^flag provided but not defined: (-\S+)$`)
	flagNeedsArg  = regexp.MustCompile(`^flag needs an argument: (-\S+)$`)
	flagBadValue  = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for (?:flag )?(-\S+): `)
	flagHelpShort = regexp.MustCompile(`^bad flag syntax: (.*)$`)
)

// flagText says a flag package error in lang, or "" for another error.
func flagText(lang, s string) string {
	switch {
	case flagUnknown.MatchString(s):
		return msg(lang, "unknown_flag", "-"+flagUnknown.FindStringSubmatch(s)[1])
	case flagNeedsArg.MatchString(s):
		return msg(lang, "flag_needs_value", "-"+flagNeedsArg.FindStringSubmatch(s)[1])
	case flagBadValue.MatchString(s):
		m := flagBadValue.FindStringSubmatch(s)
		return msg(lang, "flag_bad_value", m[1], "-"+m[2])
	case flagHelpShort.MatchString(s):
		return msg(lang, "unknown_flag", flagHelpShort.FindStringSubmatch(s)[1])
	}
	return ""
}

// redact drops the password of a URL before it is shown.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}
