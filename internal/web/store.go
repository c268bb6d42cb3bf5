package web

import (
	"context"
	"crypto/rand"
	"sync"
	"time"
)

// Store keeps the state of the pages, sessions and the CSRF secret, where
// every instance of the service sees it and a restart keeps it: the
// archive's database (sqlite.Archive and postgres.Archive implement it).
type Store interface {
	// WebGet returns the value of key, nil when there is none or it
	// expired.
	WebGet(ctx context.Context, key string) ([]byte, error)
	// WebSet stores the value of key until expires.
	WebSet(ctx context.Context, key string, value []byte, expires time.Time) error
	// WebDelete removes key; removing a missing key is not an error.
	WebDelete(ctx context.Context, key string) error
	// WebAdd stores value under key, with no expiry, unless key has a
	// value; it returns the value stored, so that instances racing to add
	// one all get the same.
	WebAdd(ctx context.Context, key string, value []byte) ([]byte, error)
}

// storeAdapter gives a Store the short names the pages use.
type storeAdapter struct{ Store }

func (s storeAdapter) Get(ctx context.Context, k string) ([]byte, error) { return s.WebGet(ctx, k) }
func (s storeAdapter) Set(ctx context.Context, k string, v []byte, exp time.Time) error {
	return s.WebSet(ctx, k, v, exp)
}
func (s storeAdapter) Delete(ctx context.Context, k string) error { return s.WebDelete(ctx, k) }

// MemoryStore is a Store in the memory of one process: sessions end with
// it. For tests and single-process use without a database.
type MemoryStore struct {
	mu  sync.Mutex
	m   map[string][]byte
	exp map[string]time.Time
	Now func() time.Time // Optional. Default time.Now.
}

func (m *MemoryStore) init() {
	if m.m == nil {
		m.m, m.exp = map[string][]byte{}, map[string]time.Time{}
	}
}

func (m *MemoryStore) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// WebGet implements Store.
func (m *MemoryStore) WebGet(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.init()
	if e, ok := m.exp[key]; ok && !m.now().Before(e) {
		delete(m.m, key)
		delete(m.exp, key)
		return nil, nil
	}
	return m.m[key], nil
}

// WebSet implements Store.
func (m *MemoryStore) WebSet(_ context.Context, key string, value []byte, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.init()
	now := m.now()
	for k, e := range m.exp { // sweep
		if !now.Before(e) {
			delete(m.m, k)
			delete(m.exp, k)
		}
	}
	m.m[key], m.exp[key] = append([]byte(nil), value...), expires
	return nil
}

// WebDelete implements Store.
func (m *MemoryStore) WebDelete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.init()
	delete(m.m, key)
	delete(m.exp, key)
	return nil
}

// WebAdd implements Store.
func (m *MemoryStore) WebAdd(_ context.Context, key string, value []byte) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.init()
	if v, ok := m.m[key]; ok {
		return v, nil
	}
	m.m[key] = append([]byte(nil), value...)
	return m.m[key], nil
}

// csrfSecretKey is the store's key of the secret of the CSRF tokens.
const csrfSecretKey = "csrf-secret"

// loadSecret returns the CSRF secret of the store, made on first use.
func loadSecret(ctx context.Context, s Store) ([]byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return s.WebAdd(ctx, csrfSecretKey, b)
}
