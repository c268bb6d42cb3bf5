package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"faldone/internal/faldone"
)

// Exit statuses, the same for every command.
const (
	exitOK       = 0 // success, or a valid verdict
	exitFindings = 1 // a negative verdict or audit findings
	exitUsage    = 2 // a usage error: unknown command or flag, missing or bad argument or input
	exitFailure  = 3 // a failure of the service or the store
)

// usageError is a mistake in the command line or its input: exit status 2.
type usageError struct {
	id   string // message id of locales/active.*.toml
	args []any
	err  error // Optional. The underlying error, printed after the message.
}

func (e *usageError) Error() string {
	msg := msg("en", e.id, e.args...)
	if e.err != nil {
		msg += ": " + e.err.Error()
	}
	return msg
}

func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usage error with the message id and its arguments.
func usagef(id string, args ...any) error { return &usageError{id: id, args: args} }

// usageWrap returns err as a usage error introduced by the message id.
func usageWrap(id string, err error, args ...any) error {
	return &usageError{id: id, args: args, err: err}
}

// exitStatus maps an error to the exit status of the convention.
func exitStatus(err error) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errFindings):
		return exitFindings
	case errors.As(err, &ue):
		return exitUsage
	}
	switch faldone.ErrorCode(err) {
	case faldone.EINVALID, faldone.EMALFORMED, faldone.ENOTFOUND, faldone.EUNSUPPORTED, faldone.ETOOLARGE, faldone.ECONFLICT:
		return exitUsage
	}
	return exitFailure
}

// userLang is the language of the CLI's messages: FALDONE_LANG, else the
// locale's (LC_ALL, LC_MESSAGES, LANG); English when none is it, en or de.
func userLang() string {
	for _, v := range []string{"FALDONE_LANG", "LC_ALL", "LC_MESSAGES", "LANG"} {
		l := strings.ToLower(os.Getenv(v))
		if l == "" {
			continue
		}
		l = l[:min(2, len(l))]
		if slices.Contains(cliLanguages, l) {
			return l
		}
		if v != "FALDONE_LANG" {
			return "en" // C, POSIX or another language
		}
	}
	return "en"
}

// reportError writes err to w in lang, in the words of its exit status,
// with a pointer to the command's help for a usage error. Every part of
// the message is in lang (see explain); the fields of an invalid input
// are the domain's, localised by the service in the language asked.
func reportError(w io.Writer, lang, cmd string, err error) {
	status := exitStatus(err)
	var ue *usageError
	var de *faldone.Error
	lead := map[int]string{exitFindings: "findings", exitUsage: "usage", exitFailure: "failure"}[status]
	fmt.Fprintf(w, "faldone %s: %s: %s\n", cmd, msg(lang, lead), explain(lang, err))
	if errors.As(err, &de) {
		for _, f := range de.Fields {
			fmt.Fprintf(w, "  %s: %s\n", f.Path, fieldText(lang, f))
		}
	}
	if os.Getenv("FALDONE_DEBUG") != "" {
		fmt.Fprintf(w, "  %s\n", err.Error())
	}
	if status == exitUsage && errors.As(err, &ue) {
		if cmd == "help" {
			fmt.Fprintln(w, strings.TrimSuffix(msg(lang, "hint", cmd), " --help"))
		} else {
			fmt.Fprintln(w, msg(lang, "hint", cmd))
		}
	}
}

// fieldText says an offending field in lang: the domain's message of its
// code, as the service words it, else the message it came with (in the
// language of the document).
func fieldText(lang string, f faldone.FieldError) string {
	loc := localizer()
	if loc == nil || f.Code == "" {
		return f.Message
	}
	params := map[string]any{"Path": f.Path}
	for k, v := range f.Params {
		params[k] = v
	}
	if t := loc(lang, "error."+f.Code, params); t != "error."+f.Code {
		return t
	}
	return f.Message
}

// cliLocalize translates the message id of a domain error; set once the
// templates (which hold the messages) are loaded.
var cliLocalize func(lang, id string, params map[string]any) string

// localizer returns cliLocalize, loading the embedded templates when no
// command has.
func localizer() func(lang, id string, params map[string]any) string {
	if cliLocalize == nil {
		_, _ = loadTemplates("")
	}
	return cliLocalize
}

// parseFlags parses args with fs. -h or --help prints usage and the
// flags on stdout and returns flag.ErrHelp (exit 0); a bad flag is a usage
// error (exit 2). Flags may follow positional arguments, which are
// returned.
func parseFlags(fs *flag.FlagSet, args []string, usage string, stdout io.Writer) ([]string, error) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "--help" || a == "-help" {
			printHelp(fs, usage, stdout)
			return nil, flag.ErrHelp
		}
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageWrap("bad_flag", err)
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// printHelp writes a command's usage and its flags.
func printHelp(fs *flag.FlagSet, usage string, w io.Writer) {
	fmt.Fprint(w, usage)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintln(w, "\nFlags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
}

// writeJSON writes v as indented JSON, for --json.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// subcommand is one subcommand of a command group, such as audit verify.
type subcommand struct {
	name string
	run  func(args []string, stdout io.Writer) error
}

// runSubcommand runs the subcommand of group named by args[0], or prints
// usage for -h, --help and help; it returns a usage error naming the
// subcommands when args names none of them.
func runSubcommand(group, usage string, subs []subcommand, args []string, stdout io.Writer) error {
	names := make([]string, len(subs))
	for i, sc := range subs {
		names[i] = sc.name
	}
	if len(args) == 0 {
		return usagef("needs", group, strings.Join(names, " | "))
	}
	for _, sc := range subs {
		if args[0] == sc.name {
			return sc.run(args[1:], stdout)
		}
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return flag.ErrHelp
	}
	return usagef("unknown_command", group+" "+args[0])
}
