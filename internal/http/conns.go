package http

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultMaxConnsPerIP is the default of Config.MaxConnsPerIP.
const DefaultMaxConnsPerIP = 64

// connLimiter is a net.Listener that holds each client address to max
// open connections; connections from the trusted reverse proxies, which
// carry every client's requests, are not counted. A connection over the
// cap gets a 429 problem and is closed before any request is read.
type connLimiter struct {
	net.Listener
	max     int
	trusted func(netip.Addr) bool

	mu   sync.Mutex
	open map[netip.Addr]int
}

// limitConns wraps ln; max <= 0 returns ln itself.
func limitConns(ln net.Listener, max int, trustedProxies []string) net.Listener {
	if max <= 0 {
		return ln
	}
	var prefixes []netip.Prefix
	for _, p := range trustedProxies {
		if !strings.Contains(p, "/") {
			if a, err := netip.ParseAddr(p); err == nil {
				prefixes = append(prefixes, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			}
			continue
		}
		if pr, err := netip.ParsePrefix(p); err == nil {
			prefixes = append(prefixes, pr.Masked())
		}
	}
	return &connLimiter{Listener: ln, max: max, open: map[netip.Addr]int{}, trusted: func(a netip.Addr) bool {
		for _, p := range prefixes {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}}
}

// tooManyConns is written to a connection over the cap.
var tooManyConns = func() string {
	body := `{"type":"urn:faldone:problem:too_many_requests","title":"Too many requests.","status":429,` +
		`"code":"too_many_requests","detail":"too many open connections from this address"}`
	return "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/problem+json; charset=utf-8\r\n" +
		"Retry-After: 10\r\nConnection: close\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}()

// Accept returns the next connection under the cap.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
		if err != nil {
			return c, nil // not TCP: not counted
		}
		addr := ap.Addr().Unmap()
		if l.trusted(addr) {
			return c, nil
		}
		l.mu.Lock()
		n := l.open[addr]
		if n >= l.max {
			l.mu.Unlock()
			go refuse(c)
			continue
		}
		l.open[addr] = n + 1
		l.mu.Unlock()
		return &countedConn{Conn: c, release: func() { l.release(addr) }}, nil
	}
}

func (l *connLimiter) release(a netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[a] <= 1 {
		delete(l.open, a)
		return
	}
	l.open[a]--
}

// refuse answers a connection over the cap and closes it.
func refuse(c net.Conn) {
	_ = c.SetWriteDeadline(time.Now().Add(2 * time.Second))
	_, _ = c.Write([]byte(tooManyConns))
	_ = c.Close()
}

// countedConn releases its place under the cap once, when closed.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
