package comuni

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// Body kinds: the higher body of a comune, as ISTAT's territorial unit code
// says it.
const (
	BodyProvincia          = "provincia"           // Provincia di X
	BodyCittaMetropolitana = "citta_metropolitana" // codes 201-292
	BodyProvinciaAutonoma  = "provincia_autonoma"  // Bolzano/Bozen (021), Trento (022)
	BodyLiberoConsorzio    = "libero_consorzio"    // Sicily, codes 081-089
	BodyNone               = ""                    // Valle d'Aosta (007); Friuli Venezia Giulia (030-032, 093), whose provinces were abolished
)

// Italian official names of the provinces whose name takes an article or
// differs from ISTAT's short name of the territorial unit.
var provinceNames = map[string]string{
	"011": "Provincia della Spezia",
	"066": "Provincia dell'Aquila",
	"103": "Provincia del Verbano-Cusio-Ossola",
	"111": "Provincia del Sud Sardegna",
	"021": "Provincia autonoma di Bolzano – Alto Adige",
	"022": "Provincia autonoma di Trento",
}

// higherBody returns the kind and the official Italian name of the body
// above a comune from ISTAT's territorial unit (code and short name), and
// the German name for the autonomous province of Bolzano.
func higherBody(code, name string) (kind, it, de string) {
	switch {
	case code == "007", code == "030", code == "031", code == "032", code == "093":
		return BodyNone, "", ""
	case code == "021":
		return BodyProvinciaAutonoma, provinceNames[code], "Autonome Provinz Bozen – Südtirol"
	case code == "022":
		return BodyProvinciaAutonoma, provinceNames[code], ""
	case code >= "201" && code <= "299":
		return BodyCittaMetropolitana, "Città metropolitana di " + name, ""
	case code >= "081" && code <= "089":
		return BodyLiberoConsorzio, "Libero consorzio comunale di " + name, ""
	}
	if n, ok := provinceNames[code]; ok {
		return BodyProvincia, n, ""
	}
	return BodyProvincia, "Provincia di " + name, ""
}

// joinISTAT adds to reg the official names and the higher body of every
// comune from the ISTAT list. A comune missing from the list, or a list
// naming a comune the registry lacks, is an error: the two are the same
// edition.
func joinISTAT(reg *Registry, r io.Reader) error {
	cr := csv.NewReader(r)
	cr.Comma = ';'
	cr.FieldsPerRecord = 6
	head, err := cr.Read()
	if err != nil {
		return fmt.Errorf("read ISTAT list: %w", err)
	}
	if head[0] != "codice_istat" {
		return fmt.Errorf("read ISTAT list: unexpected header %q", strings.Join(head, ";"))
	}
	seen := 0
	for {
		row, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read ISTAT list: %w", err)
		}
		i, ok := reg.byCode[row[0]]
		if !ok {
			return fmt.Errorf("read ISTAT list: comune %s (%s) is not in the registry", row[0], row[4])
		}
		c := &reg.all[i]
		c.Official, c.OtherName = row[3], row[5]
		c.Body, c.BodyName, c.BodyNameDE = higherBody(row[1], row[2])
		seen++
	}
	if seen != len(reg.all) {
		return fmt.Errorf("read ISTAT list: %d comuni, the registry has %d", seen, len(reg.all))
	}
	return nil
}

// DisplayName returns the name a letter in lang gives the comune: its
// official name, with both names where it has two - the Italian first, and
// the other-language name first on German letters.
func (c Comune) DisplayName(lang string) string {
	if c.OtherName == "" || c.Official == "" {
		return c.Name
	}
	if lang != "de" {
		return c.Official
	}
	sep := "/"
	if !strings.Contains(c.Official, "/") {
		sep = "-"
	}
	return c.OtherName + sep + c.Name
}

// OtherLang is the language (BCP 47) of the comune's other official name:
// German in the province of Bolzano, Ladin in that of Trento, French in
// Valle d'Aosta, Slovene in Friuli Venezia Giulia; "" when it has none.
func (c Comune) OtherLang() string {
	if c.OtherName == "" || len(c.ISTAT) < 3 {
		return ""
	}
	switch c.ISTAT[:3] {
	case "021":
		return "de"
	case "022":
		return "lld"
	case "007":
		return "fr"
	case "030", "031", "032", "093":
		return "sl"
	}
	return ""
}

// HigherBody returns the official name of the body above the comune in
// lang (only Bolzano/Bozen has a German one), or "" where there is none.
func (c Comune) HigherBody(lang string) string {
	if lang == "de" && c.BodyNameDE != "" {
		return c.BodyNameDE
	}
	return c.BodyName
}
