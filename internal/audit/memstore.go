package audit

import (
	"context"
	"fmt"
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

// Append appends leaf hashes and returns the index of the first one. The
// leaves are appended as one batch, as an engine appends them in one
// transaction.
func (m *MemStore) Append(leafHashes ...[]byte) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	need := AppendNeeds(m.size, len(leafHashes))
	edge := make([][]byte, len(need))
	for i, id := range need {
		edge[i] = m.hash(id)
	}
	nodes, err := AppendNodes(m.size, edge, leafHashes...)
	if err != nil {
		return 0, fmt.Errorf("mem append: %w", err)
	}
	for _, n := range nodes {
		for uint(len(m.levels)) <= n.ID.Level {
			m.levels = append(m.levels, nil)
		}
		lv := m.levels[n.ID.Level]
		if uint64(len(lv)) != n.ID.Index*HashSize {
			return 0, fmt.Errorf("mem append: node %s out of order", n.ID)
		}
		m.levels[n.ID.Level] = append(lv, n.Hash...)
	}
	first := m.size
	m.size += uint64(len(leafHashes))
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
