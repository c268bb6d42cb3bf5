package pades

// dssData returns the validation data of doc's /DSS, nil when it has none.
func dssData(doc *document) *ValidationData {
	dss := doc.dict(doc.dict(doc.trailer["Root"])["DSS"])
	if dss == nil {
		return nil
	}
	vd := &ValidationData{}
	for _, f := range []struct {
		key  Name
		list *[][]byte
	}{{"Certs", &vd.Certs}, {"OCSPs", &vd.OCSPs}, {"CRLs", &vd.CRLs}} {
		for i, v := range doc.array(dss[f.key]) {
			if i >= maxDSSEntries {
				break
			}
			if s, ok := doc.resolve(v).(*Stream); ok {
				if data, err := doc.decode(s); err == nil {
					*f.list = append(*f.list, data)
				}
			}
		}
	}
	return vd
}

// maxDSSEntries bounds the entries of each /DSS array read.
const maxDSSEntries = 256

// hasVRI reports whether doc's /DSS has a /VRI entry for key.
func hasVRI(doc *document, key string) bool {
	if doc == nil {
		return false
	}
	dss := doc.dict(doc.dict(doc.trailer["Root"])["DSS"])
	return doc.dict(doc.dict(dss["VRI"])[Name(key)]) != nil
}

// applyLTV gives each intact B-T signature its long-term level: B-LT
// when the file's /DSS has a /VRI entry for it, B-LTA when, moreover, an
// intact document time-stamp of a later revision signs a revision whose
// /DSS had that entry. Every signature gets the validation data of the
// file's /DSS.
func applyLTV(doc *document, sigs []Signature, revsAt *signedRevisions) {
	vd := dssData(doc)
	if vd == nil {
		return
	}
	var contents map[string][]byte
	for i := range sigs {
		s := &sigs[i]
		s.Validation = vd
		if s.IntegrityErr != nil || s.Level != LevelBT {
			continue
		}
		if contents == nil {
			contents = map[string][]byte{}
			for _, f := range sigFields(doc, doc.dict(doc.trailer["Root"])) {
				if sd := doc.dict(f.dict["V"]); sd != nil {
					c, _ := sd["Contents"].(String)
					contents[f.name] = c
				}
			}
		}
		key := vriKey(contents[s.FieldName])
		if !hasVRI(doc, key) {
			continue
		}
		s.Level = LevelBLT
		for _, t := range sigs[i+1:] {
			if t.SubFilter == SubFilterDocTimestamp && t.IntegrityErr == nil && hasVRI(revsAt.at(t.RevisionEnd), key) {
				s.Level = LevelBLTA
				break
			}
		}
	}
}
