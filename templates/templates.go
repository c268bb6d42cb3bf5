// Package templates embeds the default document templates and their message
// files. `faldone --templates DIR` replaces them with a directory of the same
// layout: one <kind>.yaml per document kind and locales/active.{it,en,de}.toml.
package templates

import "embed"

// FS holds the embedded templates and locales.
//
//go:embed *.yaml locales/*.toml
var FS embed.FS
