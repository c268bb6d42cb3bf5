// Package fonts embeds Titillium Web, the typeface of the Italian public
// administration's visual identity (Designers Italia), licensed under the SIL
// Open Font License 1.1 (OFL.txt). The TTF files are converted from the WOFF
// files of the npm package typeface-titillium-web by build.sh.
package fonts

import (
	"bytes"
	_ "embed"
)

// Family is the font family name the renderer registers the faces under.
const Family = "titillium"

var (
	//go:embed TitilliumWeb-Regular.ttf
	regular []byte
	//go:embed TitilliumWeb-Bold.ttf
	bold []byte
	//go:embed TitilliumWeb-Italic.ttf
	italic []byte
	//go:embed TitilliumWeb-BoldItalic.ttf
	boldItalic []byte
	//go:embed OFL.txt
	license []byte
)

// Faces holds one copy of each face. The PDF writer subsets fonts in place,
// so every document needs its own copy: call Copy for each render.
type Faces struct {
	Regular, Bold, Italic, BoldItalic []byte
}

// Copy returns fresh copies of the four faces, safe to hand to one renderer.
func Copy() Faces {
	return Faces{
		Regular:    bytes.Clone(regular),
		Bold:       bytes.Clone(bold),
		Italic:     bytes.Clone(italic),
		BoldItalic: bytes.Clone(boldItalic),
	}
}

// License returns the text of the SIL Open Font License that covers the faces.
func License() string { return string(license) }
