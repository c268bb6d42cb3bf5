package tmpl

import (
	"fmt"
	"text/template"
	"text/template/parse"
)

// Missing values print as nothing, by construction. text/template prints
// a missing map key (missingkey=zero on map[string]any) as "<no value>";
// removing that text from the output afterwards would also remove it from
// what a person typed. Instead every printing action of a template ends
// in the function text, which prints a missing value as "" and any other
// as text/template would.

// textFunc is the name of the function every printing action ends in.
const textFunc = "faldoneText"

// text prints v as an action of text/template does, and nil as "".
func text(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// withText adds textFunc to funcs.
func withText(funcs template.FuncMap) template.FuncMap {
	out := template.FuncMap{textFunc: text}
	for k, v := range funcs {
		out[k] = v
	}
	return out
}

// printMissingAsEmpty rewrites every printing action of t (one that
// declares no variable) to end in textFunc. t's functions MUST include
// textFunc (see withText).
func printMissingAsEmpty(t *template.Template) *template.Template {
	for _, tt := range t.Templates() {
		if tt.Tree != nil && tt.Tree.Root != nil {
			rewrite(tt.Tree.Root)
		}
	}
	return t
}

func rewrite(n parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			rewrite(c)
		}
	case *parse.ActionNode:
		if len(n.Pipe.Decl) == 0 {
			n.Pipe.Cmds = append(n.Pipe.Cmds, &parse.CommandNode{NodeType: parse.NodeCommand, Pos: n.Pos,
				Args: []parse.Node{&parse.IdentifierNode{NodeType: parse.NodeIdentifier, Pos: n.Pos, Ident: textFunc}}})
		}
	case *parse.IfNode:
		rewrite(n.List)
		rewrite(n.ElseList)
	case *parse.RangeNode:
		rewrite(n.List)
		rewrite(n.ElseList)
	case *parse.WithNode:
		rewrite(n.List)
		rewrite(n.ElseList)
	}
}
