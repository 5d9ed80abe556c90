// Package faultproxy is a reverse proxy for tests that stands in front of
// a real S3 server and injects the faults of real networks and busy
// servers, at a given rate and from a seed, so that a failing run can be
// replayed: 500 InternalError and 503 SlowDown before the request reaches
// the server, a connection reset half way through the response after the
// server has acted, and a stall before forwarding.
package faultproxy

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Kinds of fault, as counted in Counts.
const (
	InternalError = "500"
	SlowDown      = "503 SlowDown"
	Reset         = "reset mid-body"
	Stall         = "stall"
)

// Kinds lists every kind of fault, in the order Counts reports them.
var Kinds = []string{InternalError, SlowDown, Reset, Stall}

// Proxy forwards to a server and injects faults.
type Proxy struct {
	URL      string // http://127.0.0.1:PORT, to use in place of the server's
	Requests atomic.Int64

	srv    *httptest.Server
	rate   float64
	stall  time.Duration
	mu     sync.Mutex
	rng    *rand.Rand
	counts map[string]int
	off    atomic.Bool
	delay  atomic.Int64             // nanoseconds every request is held, faults or not
	match  func(*http.Request) bool // with NewMatching: which requests fail
	seen   map[string]bool          // with NewMatching: URLs already failed once
}

// SetDelay holds every request d before it is handled, as a round trip
// across a continent does: a sync slowed so that runs overlap, or a
// network figure.
func (p *Proxy) SetDelay(d time.Duration) { p.delay.Store(int64(d)) }

// New starts a proxy to target (http://HOST:PORT) that injects a fault
// into a share rate of requests, choosing the kind evenly, from seed.
// Close stops it.
func New(target string, rate float64, seed uint64, stall time.Duration) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	p := &Proxy{rate: rate, stall: stall, rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), counts: map[string]int{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = nil
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.Requests.Add(1)
		if d := p.delay.Load(); d > 0 {
			time.Sleep(time.Duration(d))
		}
		switch p.pick(r) {
		case InternalError:
			s3Error(w, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
		case SlowDown:
			s3Error(w, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
		case Stall:
			time.Sleep(p.stall)
			rp.ServeHTTP(w, r)
		case Reset:
			rec := httptest.NewRecorder()
			rp.ServeHTTP(rec, r)
			resetMidBody(w, rec)
		default:
			rp.ServeHTTP(w, r)
		}
	}))
	p.URL = p.srv.URL
	return p, nil
}

// NewMatching starts a proxy to target that fails each request match
// picks, the first time its URL is seen, with a 500, a 503 and a reset in
// turn: a test that must meet a fault in one kind of request (the second
// page of a listing) meets it, and the retry succeeds.
func NewMatching(target string, match func(*http.Request) bool) (*Proxy, error) {
	p, err := New(target, 0, 0, 0)
	if err != nil {
		return nil, err
	}
	p.match, p.seen = match, map[string]bool{}
	return p, nil
}

// Pause stops injecting faults (for checks that read through the proxy);
// Resume starts again.
func (p *Proxy) Pause()  { p.off.Store(true) }
func (p *Proxy) Resume() { p.off.Store(false) }

// Close stops the proxy.
func (p *Proxy) Close() { p.srv.Close() }

// Counts says how many faults of each kind were injected.
func (p *Proxy) Counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := make(map[string]int, len(p.counts))
	for k, v := range p.counts {
		c[k] = v
	}
	return c
}

// Injected is the number of faults injected.
func (p *Proxy) Injected() int {
	n := 0
	for _, v := range p.Counts() {
		n += v
	}
	return n
}

func (p *Proxy) pick(r *http.Request) string {
	if p.off.Load() {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var k string
	switch {
	case p.match != nil:
		if !p.match(r) || p.seen[r.URL.String()] {
			return ""
		}
		p.seen[r.URL.String()] = true
		k = []string{InternalError, SlowDown, Reset}[(len(p.seen)-1)%3]
	case p.rng.Float64() >= p.rate:
		return ""
	default:
		k = Kinds[p.rng.IntN(len(Kinds))]
	}
	p.counts[k]++
	return k
}

func s3Error(w http.ResponseWriter, code int, s3code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(code)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, s3code, msg)
}

// resetMidBody sends the status, the headers and half the body the server
// gave, then resets the connection: the server acted, the client saw a
// broken response.
func resetMidBody(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	body := rec.Body.Bytes()
	if len(body) == 0 {
		// Nothing to cut: claim a body that never comes.
		w.Header().Set("Content-Length", "1024")
	}
	w.WriteHeader(rec.Code)
	w.Write(body[:len(body)/2])
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) // RST, not FIN
	}
	conn.Close()
}
