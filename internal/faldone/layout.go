package faldone

import "time"

// Layout is a filled template: final, localised text in a small vocabulary
// of blocks, ready to be drawn. It is what a template produces and what the
// renderer consumes.
type Layout struct {
	Meta   Meta
	Blocks []Block
}

// Meta is the PDF's document information.
type Meta struct {
	Title, Subject, Author, Keywords, Creator, Producer string
	Lang                                                string
	Date                                                time.Time
	PageLabel                                           string // e.g. "Pagina {current} di {total}"
	// Draft, when set, marks an unsealed document: the mark (e.g. "BOZZA -
	// documento non firmato") is printed on every page.
	Draft string
	// Foreign are phrases in a language other than Lang, such as the German
	// name of a comune of Alto Adige in an Italian letter: the renderer tags
	// each occurrence with its language.
	Foreign []Phrase
}

// Phrase is a phrase and its language (BCP 47).
type Phrase struct {
	Text, Lang string
}

// BlockType names a block of the layout vocabulary.
type BlockType string

// The block vocabulary.
const (
	BlockLetterhead BlockType = "letterhead"
	BlockHeading    BlockType = "heading"
	BlockParagraph  BlockType = "paragraph"
	BlockKV         BlockType = "kv"
	BlockTable      BlockType = "table"
	BlockList       BlockType = "list"
	BlockChart      BlockType = "chart"
	BlockQR         BlockType = "qr"
	BlockSignature  BlockType = "signature"
	BlockFooter     BlockType = "footer"
	// BlockPaired is a paired bar chart: per row, a value before and after
	// (ex-ante and ex-post competences, say).
	BlockPaired BlockType = "paired"
)

// Block is one filled block. Which fields are set depends on Type.
type Block struct {
	Type  BlockType
	Title string   // heading text, table/list/chart caption, letterhead title
	Text  []string // paragraph text, letterhead lines, footer lines, list items
	Align string   // "left", "right", "center" for paragraphs
	Level int      // heading level, 1 or 2
	Rows  [][2]string
	Table *Table
	Bars  []Bar
	QR    string
	Sign  *SignatureBlock
	// Pairs and Legend (the names of the two values) belong to BlockPaired.
	Pairs  []Pair
	Legend [2]string
}

// Pair is one row of a paired bar chart: two values in [0, Max].
type Pair struct {
	Label                 string
	Before, After, Max    float64
	BeforeText, AfterText string // the values as printed
}

// Table is a table bound to an array of the input.
type Table struct {
	Columns []Column
	Rows    [][]string
	Empty   string // shown when there are no rows
}

// Column is a table column with its relative width (out of 12).
type Column struct {
	Label string
	Width int
	// Below sets the column's value under the row's other cells, across the
	// full width, prefixed with its label (a checklist note); Width is unused.
	Below bool
}

// Bar is one bar of a bar chart: a label and a value in [0, Max].
type Bar struct {
	Label string
	Value float64
	Max   float64
	Text  string // the value as printed, e.g. "75%"
	Note  string // what the bar covers, e.g. "2 su 4 applicabili"
	NA    bool   // nothing to measure: no bar is drawn, only Text
}

// SignatureBlock is the place, date and signatory of a letter.
type SignatureBlock struct {
	PlaceDate string
	Role      string
	Name      string
	Note      string
}
