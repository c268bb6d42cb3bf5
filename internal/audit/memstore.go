package audit

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// MemStore is an in-memory log for tests, benchmarks and tools: it stores
// nodes exactly as a storage engine does (the output of [AppendNodes]) and
// implements [HashReader]. It is safe for concurrent use.
type MemStore struct {
	mu     sync.RWMutex
	size   uint64
	levels [][]byte // levels[k] holds the level-k hashes back to back
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{} }

// Size returns the number of leaves.
func (m *MemStore) Size() uint64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.size
}

// Append appends leaf hashes and returns the index of the first one. It
// stores what [AppendNodes] returns, as an engine does, in chunks so that a
// large batch does not hold all its nodes in memory at once.
func (m *MemStore) Append(leafHashes ...[]byte) (uint64, error) {
	for i, h := range leafHashes {
		if len(h) != HashSize {
			return 0, fmt.Errorf("mem append: leaf %d: %w", i, ErrBadHash)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	first := m.size
	end := m.size + uint64(len(leafHashes))
	for k := uint(0); end>>k > 0; k++ {
		if k == uint(len(m.levels)) {
			m.levels = append(m.levels, nil)
		}
		m.levels[k] = slices.Grow(m.levels[k], int(end>>k)*HashSize-len(m.levels[k]))
	}
	const chunk = 4096
	for len(leafHashes) > 0 {
		batch := leafHashes[:min(chunk, len(leafHashes))]
		leafHashes = leafHashes[len(batch):]
		need := AppendNeeds(m.size, len(batch))
		edge := make([][]byte, len(need))
		for i, id := range need {
			edge[i] = m.hash(id)
		}
		nodes, err := AppendNodes(m.size, edge, batch...)
		if err != nil {
			return 0, fmt.Errorf("mem append: %w", err)
		}
		for _, n := range nodes {
			lv := m.levels[n.ID.Level]
			if uint64(len(lv)) != n.ID.Index*HashSize {
				return 0, fmt.Errorf("mem append: node %s out of order", n.ID)
			}
			m.levels[n.ID.Level] = append(lv, n.Hash...)
		}
		m.size += uint64(len(batch))
	}
	return first, nil
}

// hash returns the stored hash of id, aliasing the store, or nil. The
// caller holds m.mu.
func (m *MemStore) hash(id NodeID) []byte {
	if id.Level >= uint(len(m.levels)) {
		return nil
	}
	lv := m.levels[id.Level]
	if id.Index >= uint64(len(lv))/HashSize {
		return nil
	}
	off := id.Index * HashSize
	return lv[off : off+HashSize : off+HashSize]
}

// Hashes implements [HashReader]. The returned hashes are copies.
func (m *MemStore) Hashes(_ context.Context, ids []NodeID) ([][]byte, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([][]byte, len(ids))
	buf := make([]byte, 0, len(ids)*HashSize)
	for i, id := range ids {
		if h := m.hash(id); h != nil {
			start := len(buf)
			buf = append(buf, h...)
			out[i] = buf[start:len(buf):len(buf)]
		}
	}
	return out, nil
}
