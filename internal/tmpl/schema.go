package tmpl

import (
	"sort"
)

// Schema returns a JSON Schema (draft 2020-12) of kind's input, derived from
// the template's fields.
func (s *Set) Schema(kind string) (map[string]any, bool) {
	t, ok := s.byID[kind]
	if !ok {
		return nil, false
	}
	sc := objectSchema(t, t.Fields)
	props := sc["properties"].(map[string]any)
	props["lang"] = map[string]any{"type": "string", "enum": Languages, "description": "language of the document (default it)"}
	sc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	sc["$id"] = "urn:faldone:template:" + t.ID + ":" + t.Version
	sc["title"] = s.msgs.source(t.Title)
	return sc, true
}

func objectSchema(t *Template, fields []Field) map[string]any {
	props := map[string]any{}
	required := []string{}
	for i := range fields {
		props[fields[i].Name] = fieldSchema(t, &fields[i])
		if fields[i].Required {
			required = append(required, fields[i].Name)
		}
	}
	sort.Strings(required)
	return map[string]any{"type": "object", "properties": props, "required": required, "additionalProperties": false}
}

func fieldSchema(t *Template, f *Field) map[string]any {
	sc := map[string]any{}
	switch f.Type {
	case "string", "text", "phone", "docref", "comune", "enum", "date", "email", "url":
		sc["type"] = "string"
		maxLen := float64(MaxStringLength)
		if f.Max != nil {
			maxLen = *f.Max
		}
		sc["maxLength"] = int(maxLen)
		if f.Min != nil {
			sc["minLength"] = int(*f.Min)
		}
		if f.Pattern != "" {
			sc["pattern"] = f.Pattern
		}
	}
	switch f.Type {
	case "enum":
		sc["enum"] = f.Enum
	case "date":
		sc["format"] = "date"
	case "email":
		sc["format"] = "email"
	case "url":
		sc["format"] = "uri"
	case "comune":
		sc["pattern"] = "^[0-9]{6}$"
		sc["description"] = "ISTAT code of a comune of at most 5,000 inhabitants"
	case "docref":
		sc["pattern"] = reDoc.String()
		sc["description"] = "id of an archived document"
	case "integer", "number":
		sc["type"] = f.Type
		if f.Min != nil {
			sc["minimum"] = *f.Min
		}
		if f.Max != nil {
			sc["maximum"] = *f.Max
		}
	case "boolean":
		sc["type"] = "boolean"
	case "object":
		return objectSchema(t, f.Fields)
	case "array":
		sc["type"] = "array"
		sc["items"] = fieldSchema(t, f.Items)
		sc["maxItems"] = MaxItems
		if f.Max != nil {
			sc["maxItems"] = int(*f.Max)
		}
		if f.Min != nil {
			sc["minItems"] = int(*f.Min)
		}
	case "checklist":
		props := map[string]any{}
		var ids []string
		for _, a := range t.Catalog {
			for _, it := range a.Items {
				props[it.ID] = objectSchema(t, ratingFields)
				ids = append(ids, it.ID)
			}
		}
		sort.Strings(ids)
		return map[string]any{"type": "object", "properties": props, "required": ids, "additionalProperties": false}
	}
	if f.Example != nil {
		sc["examples"] = []any{f.Example}
	}
	return sc
}
