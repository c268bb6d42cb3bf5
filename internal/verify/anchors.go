package verify

import "faldone/internal/trust"

// Anchors is a set of trust anchors (see package trust).
type Anchors = trust.Anchors

// Anchor is one trusted certification authority.
type Anchor = trust.Anchor
