package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
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
	id   string // message id in cliMessages
	args []any
	err  error // Optional. The underlying error, printed after the message.
}

func (e *usageError) Error() string {
	msg := fmt.Sprintf(cliMessages["en"][e.id], e.args...)
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
		if _, ok := cliMessages[l]; ok {
			return l
		}
		if v != "FALDONE_LANG" {
			return "en" // C, POSIX or another language
		}
	}
	return "en"
}

// msg returns a CLI message in lang.
func msg(lang, id string, args ...any) string {
	m, ok := cliMessages[lang][id]
	if !ok {
		m = cliMessages["en"][id]
	}
	return fmt.Sprintf(m, args...)
}

// reportError writes err to w in lang, in the words of its exit status,
// with a pointer to the command's help for a usage error.
func reportError(w io.Writer, lang, cmd string, err error) {
	status := exitStatus(err)
	var ue *usageError
	var de *faldone.Error
	var text string
	switch {
	case errors.As(err, &ue):
		text = msg(lang, ue.id, ue.args...)
		if ue.err != nil {
			text += ": " + ue.err.Error()
		}
	case errors.As(err, &de) && localizer() != nil:
		if de.MessageID != "" {
			text = cliLocalize(lang, de.MessageID, de.Params)
		} else {
			text = cliLocalize(lang, "error."+de.Code, nil) + " (" + de.Message + ")"
		}
	default:
		text = err.Error()
	}
	lead := map[int]string{exitFindings: "findings", exitUsage: "usage", exitFailure: "failure"}[status]
	fmt.Fprintf(w, "faldone %s: %s: %s\n", cmd, msg(lang, lead), text)
	if errors.As(err, &de) {
		for _, f := range de.Fields {
			fmt.Fprintf(w, "  %s: %s\n", f.Path, f.Message)
		}
	}
	if status == exitUsage && ue != nil {
		if cmd == "help" {
			fmt.Fprintln(w, strings.TrimSuffix(msg(lang, "hint", cmd), " --help"))
		} else {
			fmt.Fprintln(w, msg(lang, "hint", cmd))
		}
	}
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

// cliMessages are the CLI's own messages in each language.
var cliMessages = map[string]map[string]string{
	"it": {
		"usage":           "uso non corretto",
		"failure":         "errore del servizio o dell'archivio",
		"findings":        "esito negativo",
		"hint":            "Aiuto: faldone %s --help",
		"unknown_command": "comando sconosciuto %q",
		"bad_flag":        "opzione non valida",
		"needs":           "%s richiede %s",
		"no_args":         "%s non accetta argomenti, solo opzioni: %q",
		"one_file":        "indicare un solo file PDF",
		"bad_lang":        "--lang deve essere uno di %s",
		"read":            "impossibile leggere %s",
		"not_pdf":         "%s non è un PDF leggibile",
		"bad_setting":     "impostazioni non valide: %s",
		"settings":        "controllare le impostazioni",
		"key_revoked":     "chiave %s revocata",
		"key_created":     "creata la chiave %s (%s) per %q: viene mostrata solo questa volta",
		"no_archive":      "nessun archivio da verificare",
		"not_dev":         "demo riempie solo un'istanza di sviluppo (--seal dev, senza --production)",
		"not_empty":       "l'archivio di %s contiene già documenti: demo riempie solo un'istanza nuova",
	},
	"en": {
		"usage":           "usage error",
		"failure":         "the service or the store failed",
		"findings":        "negative result",
		"hint":            "Help: faldone %s --help",
		"unknown_command": "unknown command %q",
		"bad_flag":        "bad flag",
		"needs":           "%s needs %s",
		"no_args":         "%s takes no arguments, only flags: %q",
		"one_file":        "name one PDF file",
		"bad_lang":        "--lang must be one of %s",
		"read":            "cannot read %s",
		"not_pdf":         "%s is not a readable PDF",
		"bad_setting":     "invalid settings: %s",
		"settings":        "check the settings",
		"key_revoked":     "revoked key %s",
		"key_created":     "created key %s (%s) for %q: it is shown only this once",
		"no_archive":      "no archive to audit",
		"not_dev":         "demo fills only a development instance (--seal dev, without --production)",
		"not_empty":       "the archive in %s already holds documents: demo fills only a fresh instance",
	},
	"de": {
		"usage":           "falscher Aufruf",
		"failure":         "Fehler des Dienstes oder des Archivs",
		"findings":        "negatives Ergebnis",
		"hint":            "Hilfe: faldone %s --help",
		"unknown_command": "unbekannter Befehl %q",
		"bad_flag":        "ungültige Option",
		"needs":           "%s braucht %s",
		"no_args":         "%s nimmt keine Argumente, nur Optionen: %q",
		"one_file":        "genau eine PDF-Datei angeben",
		"bad_lang":        "--lang muss einer dieser Werte sein: %s",
		"read":            "%s kann nicht gelesen werden",
		"not_pdf":         "%s ist kein lesbares PDF",
		"bad_setting":     "ungültige Einstellungen: %s",
		"settings":        "Einstellungen prüfen",
		"key_revoked":     "Schlüssel %s widerrufen",
		"key_created":     "Schlüssel %s (%s) für %q erstellt: er wird nur dieses eine Mal gezeigt",
		"no_archive":      "kein Archiv zu prüfen",
		"not_dev":         "demo füllt nur eine Entwicklungsinstanz (--seal dev, ohne --production)",
		"not_empty":       "das Archiv in %s enthält bereits Dokumente: demo füllt nur eine neue Instanz",
	},
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
