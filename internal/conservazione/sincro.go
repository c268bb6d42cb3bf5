package conservazione

import "encoding/xml"

// The index of the package in the UNI 11386:2020 (SInCRO 2.0) vocabulary:
// PIndex with its SelfDescription, the PVolume (here: the comune's
// dossier), one FileGroup per document version, and the Process. Element
// and attribute names follow the standard's PIndex schema as public
// implementations use it; every element the package needs is here, and
// nothing else.

// Namespace is the SInCRO 2.0 namespace.
const Namespace = "http://www.uni.com/U3011/sincro-v2/"

// PIndex is the root of a SInCRO index.
type PIndex struct {
	XMLName         xml.Name        `xml:"sincro:PIndex"`
	XMLNS           string          `xml:"xmlns:sincro,attr"`
	Language        string          `xml:"sincro:language,attr"`
	SincroVersion   string          `xml:"sincro:sincroVersion,attr"`
	URI             string          `xml:"sincro:uri,attr"`
	SelfDescription SelfDescription `xml:"sincro:SelfDescription"`
	PVolume         PVolume         `xml:"sincro:PVolume"`
	FileGroups      []FileGroup     `xml:"sincro:FileGroup"`
	Process         Process         `xml:"sincro:Process"`
}

// ID is an identifier with its scheme.
type ID struct {
	Scheme string `xml:"sincro:scheme,attr"`
	Value  string `xml:",chardata"`
}

// SelfDescription identifies the index and the software that made it.
type SelfDescription struct {
	ID                  ID                  `xml:"sincro:ID"`
	CreatingApplication CreatingApplication `xml:"sincro:CreatingApplication"`
}

// CreatingApplication is the producing software.
type CreatingApplication struct {
	Name     string `xml:"sincro:Name"`
	Version  string `xml:"sincro:Version"`
	Producer string `xml:"sincro:Producer"`
}

// PVolume is the set of files the index describes: the dossier.
type PVolume struct {
	ID          ID     `xml:"sincro:ID"`
	Label       string `xml:"sincro:Label"`
	Description string `xml:"sincro:Description"`
}

// FileGroup groups the files of one document version.
type FileGroup struct {
	Label string `xml:"sincro:Label"`
	Files []File `xml:"sincro:File"`
}

// File is one file of the package with its hash.
type File struct {
	Format    string    `xml:"sincro:format,attr"`
	Encoding  string    `xml:"sincro:encoding,attr"`
	Extension string    `xml:"sincro:extension,attr"`
	ID        ID        `xml:"sincro:ID"`
	Path      string    `xml:"sincro:Path"`
	Hash      Hash      `xml:"sincro:Hash"`
	MoreInfo  *MoreInfo `xml:"sincro:MoreInfo,omitempty"`
}

// Hash is a file's digest, base64, with the function that made it.
type Hash struct {
	Function string `xml:"sincro:hashFunction,attr"`
	Value    string `xml:",chardata"`
}

// MoreInfo points at the metadata of a file kept in the package.
type MoreInfo struct {
	XMLScheme        string             `xml:"sincro:XMLScheme,attr"`
	ExternalMetadata []ExternalMetadata `xml:"sincro:ExternalMetadata"`
}

// ExternalMetadata is a metadata file of the package with its hash.
type ExternalMetadata struct {
	Format    string `xml:"sincro:format,attr"`
	Encoding  string `xml:"sincro:encoding,attr"`
	Extension string `xml:"sincro:extension,attr"`
	ID        ID     `xml:"sincro:ID"`
	Path      string `xml:"sincro:Path"`
	Hash      Hash   `xml:"sincro:Hash"`
}

// Process says who made the package, for whom, when and under which rules.
type Process struct {
	Submitter          Agent         `xml:"sincro:Submitter"`
	Holder             Agent         `xml:"sincro:Holder"`
	TimeReference      TimeReference `xml:"sincro:TimeReference"`
	LawsAndRegulations string        `xml:"sincro:LawsAndRegulations"`
}

// Agent is an organisation of the process.
type Agent struct {
	AgentType  string    `xml:"sincro:agentType,attr"`
	HolderRole string    `xml:"sincro:holderRole,attr,omitempty"`
	AgentID    string    `xml:"sincro:AgentID,omitempty"`
	AgentName  AgentName `xml:"sincro:AgentName"`
}

// AgentName is an organisation's formal name.
type AgentName struct {
	FormalName string `xml:"sincro:FormalName"`
}

// TimeReference is when the index was made.
type TimeReference struct {
	TimeInfo TimeInfo `xml:"sincro:TimeInfo"`
}

// TimeInfo is a time, with or without an attached time-stamp.
type TimeInfo struct {
	AttachedTimeStamp bool   `xml:"sincro:attachedTimeStamp,attr"`
	Value             string `xml:",chardata"`
}

// The reading side: encoding/xml matches names by local name when the
// struct tag has no namespace, so these mirror the writing types.
type rIndex struct {
	XMLName    xml.Name     `xml:"PIndex"`
	Version    string       `xml:"sincroVersion,attr"`
	FileGroups []rFileGroup `xml:"FileGroup"`
}

type rFileGroup struct {
	Label string  `xml:"Label"`
	Files []rFile `xml:"File"`
}

type rFile struct {
	Path string `xml:"Path"`
	Hash rHash  `xml:"Hash"`
	More []struct {
		Path string `xml:"Path"`
		Hash rHash  `xml:"Hash"`
	} `xml:"MoreInfo>ExternalMetadata"`
}

type rHash struct {
	Function string `xml:"hashFunction,attr"`
	Value    string `xml:",chardata"`
}
