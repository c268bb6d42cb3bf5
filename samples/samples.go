package samples

import "embed"

// Inputs holds the sample inputs, <comune>/<kind>.json, for `faldone demo`.
//
//go:embed */*.json
var Inputs embed.FS
