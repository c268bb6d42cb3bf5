package main

import (
	"io"

	fhttp "faldone/internal/http"
)

const openapiUsage = `Usage: faldone openapi [--templates DIR]

Prints the OpenAPI 3.1 document of the API, as GET /openapi.json answers it,
for the embedded templates or those of --templates: one request body per
document kind.

`

func openapiCmd(args []string, stdout io.Writer) error {
	fs := flagSet("openapi")
	tdir := fs.String("templates", env("templates", ""), "directory of templates overriding the embedded ones (FALDONE_TEMPLATES)")
	if pos, err := parseFlags(fs, args, openapiUsage, stdout); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("no_args", "openapi", pos)
	}
	set, err := loadTemplates(*tdir)
	if err != nil {
		return err
	}
	b, err := fhttp.New(fhttp.Config{Templates: set, Version: set.Version}).OpenAPI()
	if err != nil {
		return err
	}
	_, err = stdout.Write(b)
	return err
}
