package http

import (
	"strconv"
	"strings"
	"time"

	"faldone/internal/faldone"
)

// Metadata is the AgID metadata of one version of an administrative
// document (Linee guida sui documenti informatici, Allegato 5), with the
// Allegato's element names.
type Metadata struct {
	IdDoc                              IdDoc                    `json:"IdDoc"`
	ModalitaDiFormazione               string                   `json:"ModalitaDiFormazione"`
	TipologiaDocumentale               string                   `json:"TipologiaDocumentale"`
	DatiDiRegistrazione                DatiDiRegistrazione      `json:"DatiDiRegistrazione"`
	Soggetti                           []Soggetto               `json:"Soggetti"`
	ChiaveDescrittiva                  ChiaveDescrittiva        `json:"ChiaveDescrittiva"`
	Allegati                           Allegati                 `json:"Allegati"`
	Classificazione                    []Classificazione        `json:"Classificazione"`
	Riservato                          bool                     `json:"Riservato"`
	IdentificativoDelFormato           IdentificativoDelFormato `json:"IdentificativoDelFormato"`
	Verifica                           Verifica                 `json:"Verifica"`
	IdAggregazione                     []Aggregazione           `json:"IdAggregazione"`
	NomeDelDocumento                   string                   `json:"NomeDelDocumento"`
	VersioneDelDocumento               string                   `json:"VersioneDelDocumento"`
	IdDocVersionePrecedente            *IdDoc                   `json:"IdDocVersionePrecedente,omitempty"`
	TracciatureModificheDocumento      []TracciaturaModifica    `json:"TracciatureModificheDocumento"`
	TempoDiConservazione               int                      `json:"TempoDiConservazione"` // years; 9999: permanent
	Note                               string                   `json:"Note,omitempty"`
	ImprontaCrittograficaDelDocumento  Impronta                 `json:"ImprontaCrittograficaDelDocumento"`
	IdentificativoDocumentoRiferimento *IdDoc                   `json:"IdentificativoDocumentoRiferimento,omitempty"`
}

// IdDoc identifies a document version: its identifier and fingerprint.
type IdDoc struct {
	Identificativo                    string   `json:"Identificativo"`
	ImprontaCrittograficaDelDocumento Impronta `json:"ImprontaCrittograficaDelDocumento"`
}

// Impronta is a cryptographic fingerprint: lowercase hex and the algorithm.
type Impronta struct {
	Impronta  string `json:"Impronta"`
	Algoritmo string `json:"Algoritmo"`
}

// DatiDiRegistrazione are the registration data of a document.
type DatiDiRegistrazione struct {
	TipologiaDiFlusso  string `json:"TipologiaDiFlusso"` // U (uscita), E (entrata), I (interno)
	TipoRegistro       string `json:"TipoRegistro"`      // Nessuno, Protocollo Ordinario/Protocollo Emergenza, Repertorio/Registro
	DataRegistrazione  string `json:"DataRegistrazione"`
	NumeroDocumento    string `json:"NumeroDocumento"`
	CodiceRegistro     string `json:"CodiceRegistro,omitempty"`
	DataDocumento      string `json:"DataDocumento,omitempty"`
	OraRegistrazione   string `json:"OraRegistrazione,omitempty"`
	RegistroDiSistema  string `json:"RegistroDiSistema"` // the archive's own registration: document id and version
	IndiceNelRegistro  int64  `json:"IndiceNelRegistro"` // the leaf of the audit log
	ProduttoreRegistro string `json:"ProduttoreRegistro,omitempty"`
}

// Soggetto is a party of the document.
type Soggetto struct {
	Ruolo          string `json:"Ruolo"`
	TipoSoggetto   string `json:"TipoSoggetto"` // PAI: pubblica amministrazione italiana; PF: persona fisica; SW: sistema software
	Denominazione  string `json:"Denominazione"`
	CodiceIPA      string `json:"CodiceIPA,omitempty"`
	Identificativo string `json:"Identificativo,omitempty"`
}

// ChiaveDescrittiva describes the content.
type ChiaveDescrittiva struct {
	Oggetto      string   `json:"Oggetto"`
	ParoleChiave []string `json:"ParoleChiave,omitempty"`
}

// Allegati lists the attachments.
type Allegati struct {
	NumeroAllegati int `json:"NumeroAllegati"`
}

// Classificazione is the place of the document in a classification scheme.
type Classificazione struct {
	IndiceDiClassificazione string `json:"IndiceDiClassificazione"`
	Descrizione             string `json:"Descrizione"`
	PianoDiClassificazione  string `json:"PianoDiClassificazione,omitempty"`
}

// IdentificativoDelFormato names the file format and the producing software.
type IdentificativoDelFormato struct {
	Formato          string           `json:"Formato"`
	ProdottoSoftware ProdottoSoftware `json:"ProdottoSoftware"`
}

// ProdottoSoftware is the software that produced the document.
type ProdottoSoftware struct {
	NomeProdotto     string `json:"NomeProdotto"`
	VersioneProdotto string `json:"VersioneProdotto"`
	Produttore       string `json:"Produttore"`
}

// Verifica states the signatures, seals and time-stamps of the file.
type Verifica struct {
	FirmatoDigitalmente                          bool `json:"FirmatoDigitalmente"`
	SigillatoElettronicamente                    bool `json:"SigillatoElettronicamente"`
	MarcaturaTemporale                           bool `json:"MarcaturaTemporale"`
	ConformitaCopieImmagineSuSupportoInformatico bool `json:"ConformitaCopieImmagineSuSupportoInformatico"`
}

// Aggregazione names the aggregation (fascicolo) the document belongs to.
type Aggregazione struct {
	TipoAggregazione string `json:"TipoAggregazione"`
	IdAggregazione   string `json:"IdAggregazione"`
}

// TracciaturaModifica records a change: a version after the first.
type TracciaturaModifica struct {
	TipoModifica                string `json:"TipoModifica"` // annullamento, rettifica, integrazione, annotazione
	SoggettoAutoreDellaModifica string `json:"SoggettoAutoreDellaModifica"`
	DataModifica                string `json:"DataModifica"`
	OraModifica                 string `json:"OraModifica"`
	IdDocVersionePrecedente     IdDoc  `json:"IdDocVersionePrecedente"`
	Descrizione                 string `json:"Descrizione,omitempty"`
}

// tipologie names each kind as the Allegato's TipologiaDocumentale.
var tipologie = map[faldone.Kind]string{
	faldone.KindAdesione:     "Lettera di adesione al progetto FAST Piccoli Comuni",
	faldone.KindAssessment:   "Report di Assessment Digitale",
	faldone.KindPiano:        "Piano di lavoro del microprogetto",
	faldone.KindApprovazione: "Lettera di approvazione del microprogetto",
	faldone.KindChiusura:     "Relazione di chiusura del microprogetto",
}

// docID is the identifier of a document version in the metadata.
func docID(id string, version int) string { return id + "-v" + strconv.Itoa(version) }

// RecordMetadata returns the AgID Allegato 5 metadata of a record of a
// comune named comuneName.
func RecordMetadata(r *faldone.Record, comuneName string) *Metadata {
	sha := Impronta{Impronta: r.SHA256, Algoritmo: "SHA-256"}
	m := &Metadata{
		IdDoc:                             IdDoc{Identificativo: docID(r.ID, r.Version), ImprontaCrittograficaDelDocumento: sha},
		ImprontaCrittograficaDelDocumento: sha,
		ModalitaDiFormazione:              "a) creazione tramite l'utilizzo di strumenti software che assicurino la produzione di documenti nei formati previsti",
		TipologiaDocumentale:              tipologie[r.Kind],
		ChiaveDescrittiva:                 ChiaveDescrittiva{Oggetto: r.Oggetto, ParoleChiave: []string{"FAST Piccoli Comuni", string(r.Kind)}},
		Classificazione:                   []Classificazione{},
		Riservato:                         false,
		IdentificativoDelFormato: IdentificativoDelFormato{Formato: r.Format, ProdottoSoftware: ProdottoSoftware{
			NomeProdotto: "faldone", VersioneProdotto: strings.TrimSpace(strings.TrimPrefix(r.Producer, "faldone")), Produttore: "faldone"}},
		Verifica: Verifica{
			FirmatoDigitalmente:       r.Seal.ComuneSigned,
			SigillatoElettronicamente: r.Seal.Level != "",
			MarcaturaTemporale:        r.Seal.TimestampTime != nil,
		},
		IdAggregazione:                []Aggregazione{{TipoAggregazione: "Fascicolo", IdAggregazione: "FAST-" + r.Comune}},
		NomeDelDocumento:              string(r.Kind) + "-" + r.Comune + "-" + r.ID + "-v" + strconv.Itoa(r.Version) + ".pdf",
		VersioneDelDocumento:          strconv.Itoa(r.Version),
		TracciatureModificheDocumento: []TracciaturaModifica{},
		TempoDiConservazione:          9999,
		Note:                          "Template " + r.Template.ID + " " + r.Template.Version + " (sha256 " + r.Template.SHA256 + "); input sha256 " + r.InputSHA,
	}
	if m.TipologiaDocumentale == "" {
		m.TipologiaDocumentale = string(r.Kind)
	}
	created := r.Created.UTC()
	reg := DatiDiRegistrazione{TipologiaDiFlusso: "U", TipoRegistro: "Nessuno",
		DataRegistrazione: created.Format(time.DateOnly), OraRegistrazione: created.Format("15:04:05Z"),
		NumeroDocumento: docID(r.ID, r.Version), DataDocumento: r.Date,
		RegistroDiSistema: "faldone audit log", IndiceNelRegistro: r.Leaf}
	if r.Protocol.Number != "" {
		reg.TipoRegistro, reg.NumeroDocumento = "Protocollo Ordinario/Protocollo Emergenza", r.Protocol.Number
		if r.Protocol.Date != "" {
			reg.DataRegistrazione = r.Protocol.Date
		}
		reg.ProduttoreRegistro = r.IPA
	}
	comune := Soggetto{TipoSoggetto: "PAI", Denominazione: "Comune di " + comuneName, CodiceIPA: r.IPA, Identificativo: r.Comune}
	taskForce := Soggetto{TipoSoggetto: "PAI", Denominazione: "Formez PA - Task force FAST Piccoli Comuni"}
	switch r.Kind {
	case faldone.KindAssessment, faldone.KindChiusura: // reports of the task force
		comune.Ruolo, taskForce.Ruolo = "Destinatario", "Autore"
	default: // letters and plans the comune signs
		comune.Ruolo, taskForce.Ruolo = "Autore", "Destinatario"
	}
	m.Soggetti = []Soggetto{comune, taskForce,
		{Ruolo: "Soggetto che effettua la registrazione", TipoSoggetto: "SW", Denominazione: "faldone", Identificativo: r.Actor}}
	if r.Version > 1 {
		prev := IdDoc{Identificativo: docID(r.ID, r.Version-1), ImprontaCrittograficaDelDocumento: Impronta{Impronta: r.PrevSHA, Algoritmo: "SHA-256"}}
		m.IdDocVersionePrecedente = &prev
		t := TracciaturaModifica{TipoModifica: strings.ToLower(r.Reason), SoggettoAutoreDellaModifica: r.Actor,
			DataModifica: created.Format(time.DateOnly), OraModifica: created.Format("15:04:05Z"), IdDocVersionePrecedente: prev}
		if r.Reason == faldone.ChangeSigned {
			t.TipoModifica = "integrazione"
			t.SoggettoAutoreDellaModifica = r.IPA
			t.Descrizione = "firma digitale del Comune aggiunta come revisione incrementale della versione precedente"
			m.ModalitaDiFormazione = "b) acquisizione di un documento informatico per via telematica o su supporto informatico"
			reg.TipologiaDiFlusso = "E"
		}
		m.TracciatureModificheDocumento = append(m.TracciatureModificheDocumento, t)
	}
	m.DatiDiRegistrazione = reg
	if r.Cites != "" {
		m.IdentificativoDocumentoRiferimento = &IdDoc{Identificativo: r.Cites,
			ImprontaCrittograficaDelDocumento: Impronta{Impronta: r.CitesSHA, Algoritmo: "SHA-256"}}
	}
	return m
}
