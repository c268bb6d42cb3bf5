package archive

import (
	"sync"
	"sync/atomic"
)

// Group commits what is submitted to it in groups, for an engine's
// appends: items queue on a channel, and one goroutine takes the first
// one and every other already waiting (up to the group's maximum) and
// hands them to the engine's commit, which answers each. Items that wait
// while a group commits form the next one, so the more arrive at once,
// the fewer commits (and fsyncs) each costs.
type Group[T any] struct {
	max    int
	commit func(group []T)
	queue  chan T
	quit   chan struct{}
	wg     sync.WaitGroup
	once   sync.Once

	mu     sync.RWMutex // held for reading by senders, for writing by Stop
	closed bool

	unanswered atomic.Int64 // items queued or in a group, not yet answered
}

// Start begins committing groups of at most max items with commit, which
// must answer every item of its group.
func (g *Group[T]) Start(max int, commit func(group []T)) {
	g.max, g.commit = max, commit
	g.queue = make(chan T, max)
	g.quit = make(chan struct{})
	g.wg.Add(1)
	go g.run()
}

// Stop commits what is queued and ends the goroutine; later submissions
// are refused.
func (g *Group[T]) Stop() {
	if g.queue == nil {
		return
	}
	g.once.Do(func() {
		g.mu.Lock()
		g.closed = true
		g.mu.Unlock()
		close(g.quit)
		g.wg.Wait()
	})
}

// Submit queues item and calls wait, which returns once the item is
// answered, whatever happens to the caller's context: once queued, an
// item is committed or refused, never left in doubt. It reports false,
// without queueing, when the group is stopped.
func (g *Group[T]) Submit(item T, wait func()) bool {
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return false
	}
	g.unanswered.Add(1)
	defer g.unanswered.Add(-1)
	g.queue <- item
	g.mu.RUnlock()
	wait()
	return true
}

// Unanswered is the number of items queued or in a group and not yet
// answered.
func (g *Group[T]) Unanswered() int64 { return g.unanswered.Load() }

func (g *Group[T]) run() {
	defer g.wg.Done()
	group := make([]T, 0, g.max)
	for {
		select {
		case it := <-g.queue:
			group = append(group[:0], it)
		case <-g.quit:
			// Senders hold the read lock while they send, and Stop
			// took the write lock after closing: nothing more arrives.
			for {
				select {
				case it := <-g.queue:
					g.commit([]T{it})
				default:
					return
				}
			}
		}
	more:
		for len(group) < g.max {
			select {
			case it := <-g.queue:
				group = append(group, it)
			default:
				break more
			}
		}
		g.commit(group)
		clear(group)
	}
}
