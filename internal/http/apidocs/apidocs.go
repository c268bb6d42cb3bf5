// Package apidocs embeds the API reference page served at /docs: Redoc
// (npm redoc, MIT, see redoc-LICENSE.txt and build.sh), rendering the
// service's /openapi.json. Nothing is loaded from the internet.
package apidocs

import "embed"

// FS holds the page, its stylesheet and the Redoc bundle.
//
//go:embed index.html apidocs.css redoc.standalone.js redoc-LICENSE.txt redoc-THIRD-PARTY-LICENSES.txt REDOC_VERSION
var FS embed.FS
