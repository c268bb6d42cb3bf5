package docs

import (
	"fmt"

	"faldone/internal/faldone"
	"faldone/internal/tmpl"
)

// CheckConsistency checks what a template cannot declare: that an input
// agrees with itself. An approvazione's outcome agrees with what was
// delivered (positive: every planned output delivered; partial: some;
// negative: a reason given), a delivered output has its evidence and a date
// not after the letter; a chiusura's questionnaire has no more respondents
// than recipients and its ex-post measure follows the ex-ante one. It
// returns nil or EINVALID with one field error per failure.
func CheckConsistency(set *tmpl.Set, lang string, kind faldone.Kind, data map[string]any) error {
	c := &chainErrors{set: set, lang: lang}
	switch kind {
	case faldone.KindPiano:
		c.notBeforeDoc(data, "output", "scadenza")
	case faldone.KindApprovazione:
		c.outcome(data, "output", "data")
		c.notAfterDoc(data, "output", "data")
		c.notAfterDoc(data, "output_non_previsti", "data")
	case faldone.KindChiusura:
		c.outcome(data, "output", "consegna")
		c.notAfterDoc(data, "output", "consegna")
		q := obj(data["questionario"])
		if r, d := num(q["rispondenti"]), num(q["destinatari"]); r > d {
			c.add("$.questionario.rispondenti", "respondents", map[string]any{"Max": fmt.Sprint(q["destinatari"])})
		}
		r := obj(data["rilevazione"])
		ante, post := obj(r["ex_ante"]), obj(r["ex_post"])
		da, ok1 := day(ante["data"])
		dp, ok2 := day(post["data"])
		if ok1 && ok2 && !dp.After(da) {
			c.add("$.rilevazione.ex_post.data", "ex_post_order", map[string]any{"Date": tmpl.FormatDate(lang, ante["data"], false)})
		}
		if dd, ok := day(data["data"]); ok && ok2 && dp.After(dd) {
			c.add("$.rilevazione.ex_post.data", "after_document", map[string]any{"Date": tmpl.FormatDate(lang, data["data"], false)})
		}
	}
	if len(c.errs) == 0 {
		return nil
	}
	return set.FieldErrors(lang, c.errs...)
}

func num(v any) float64 {
	if n, ok := v.(interface{ Float64() (float64, error) }); ok {
		f, _ := n.Float64()
		return f
	}
	return 0
}

// outcome checks an outcome against the state of the outputs (field
// "stato": consegnato, parziale, non_consegnato) and that a delivered
// output has its evidence and date.
func (c *chainErrors) outcome(data map[string]any, outputs, dateKey string) {
	done, short := 0, ""
	for i, o := range list(data[outputs]) {
		om := obj(o)
		st := str(om["stato"])
		if st == "consegnato" {
			done++
		} else if short == "" {
			short = str(om["titolo"])
		}
		if st != "non_consegnato" && str(om[dateKey]) == "" {
			c.add(fmt.Sprintf("$.%s[%d].%s", outputs, i, dateKey), "required_when", map[string]any{"Value": c.set.Localize(c.lang, "stato."+st, nil)})
		}
		if dateKey == "data" && st != "non_consegnato" && str(om["evidenza"]) == "" {
			c.add(fmt.Sprintf("$.%s[%d].evidenza", outputs, i), "required_when", map[string]any{"Value": c.set.Localize(c.lang, "stato."+st, nil)})
		}
	}
	esito := str(data["esito"])
	switch esito {
	case "positivo":
		if short != "" {
			c.add("$.esito", "esito_positivo", map[string]any{"Title": short})
		}
	case "parziale":
		if done == 0 || short == "" {
			c.add("$.esito", "esito_parziale", nil)
		}
	}
	if esito != "positivo" && esito != "" && str(data["valutazione"]) == "" {
		c.add("$.valutazione", "required_when", map[string]any{"Value": c.set.Localize(c.lang, "esito."+esito, nil)})
	}
}

// notAfterDoc fails each item date of an array field that follows the
// document's own date.
func (c *chainErrors) notAfterDoc(data map[string]any, array, key string) {
	d, ok := day(data["data"])
	if !ok {
		return
	}
	for i, o := range list(data[array]) {
		if od, ok := day(obj(o)[key]); ok && od.After(d) {
			c.add(fmt.Sprintf("$.%s[%d].%s", array, i, key), "after_document", map[string]any{"Date": tmpl.FormatDate(c.lang, data["data"], false)})
		}
	}
}

// notBeforeDoc fails each item date of an array field that precedes the
// document's own date.
func (c *chainErrors) notBeforeDoc(data map[string]any, array, key string) {
	d, ok := day(data["data"])
	if !ok {
		return
	}
	for i, o := range list(data[array]) {
		if od, ok := day(obj(o)[key]); ok && od.Before(d) {
			c.add(fmt.Sprintf("$.%s[%d].%s", array, i, key), "before_document", map[string]any{"Date": tmpl.FormatDate(c.lang, data["data"], false)})
		}
	}
}
