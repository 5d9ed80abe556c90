package mirror

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/projectatomic/atomic-site/internal/gpgsig"
	"github.com/projectatomic/atomic-site/internal/manifest"
	"github.com/projectatomic/atomic-site/internal/ostree"
	"github.com/projectatomic/atomic-site/internal/parallel"
	"github.com/projectatomic/atomic-site/internal/store"
)

// RemoteOptions say what to take from a repository served over HTTP(S).
type RemoteOptions struct {
	// Refs, when set, are the only refs mirrored, each read from
	// refs/heads/R; the upstream's summary, which names every ref, is
	// then not mirrored.
	Refs []string
	// Depth is how many parents of each ref's commit are mirrored too (0:
	// the commit alone, as ostree pull --mirror does by default).
	Depth int
	// Jobs is how many metadata objects are fetched at once while the
	// refs are walked.
	Jobs  int
	Retry store.RetryPolicy
	// Client defaults to one with keep-alive and HTTP/2.
	Client *http.Client
	// Keyring, when set, is the keys the upstream's signatures must
	// verify with, as ostree pull's gpg-verify and gpg-verify-summary
	// ask: the summary's (summary.sig) and every commit's (.commitmeta).
	// A missing or bad signature stops the run before anything is
	// published.
	Keyring openpgp.EntityList
	// Spool is where objects too large to check in memory wait between
	// their fetch and their upload (default: the system's temporary
	// directory); each is removed once uploaded.
	Spool string
}

// Limits on what is read from an upstream into memory.
const (
	maxSmall     = 1 << 20  // config, refs, a trace
	maxInMemory  = 4 << 20  // objects larger than this are spooled to disk
	maxMetaBytes = 64 << 20 // a commit, dirtree or dirmeta
)

// OpenHTTP reads an archive-mode ostree repository served over HTTP(S):
// its config (which must say archive mode), its summary (read once: the
// run publishes the refs this summary names and these very bytes, so an
// upstream that changes meanwhile never produces a mix) and summary.sig,
// and its trace if it is a mirror itself. The objects the refs need are
// listed once the destination is known (Source.Resolve): only what the
// destination lacks is fetched, each checked against its checksum as it
// is uploaded.
func OpenHTTP(ctx context.Context, rawURL string, opts RemoteOptions) (*Source, error) {
	h, err := newHTTPTransport(rawURL, opts.Client)
	if err != nil {
		return nil, err
	}
	return openRemote(ctx, h, opts)
}

// newHTTPTransport reads the files below rawURL with client, or one with
// keep-alive and HTTP/2 if client is nil.
func newHTTPTransport(rawURL string, client *http.Client) (*httpTransport, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s: not an http:// or https:// URL", rawURL)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	if client == nil {
		client = &http.Client{Transport: &http.Transport{
			Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true,
			MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second, ResponseHeaderTimeout: 60 * time.Second,
		}}
	}
	return &httpTransport{base: u, client: client}, nil
}

// OpenStore reads an archive-mode ostree repository from another store (an
// S3 bucket another mirror fills), named name (s3://BUCKET/PREFIX/), as
// OpenHTTP reads one served over HTTP.
func OpenStore(ctx context.Context, st Opener, name string, opts RemoteOptions) (*Source, error) {
	if !strings.HasSuffix(name, "/") {
		name += "/"
	}
	return openRemote(ctx, storeTransport{st, name}, opts)
}

// openRemote reads a remote repository's config, summary and trace; see
// OpenHTTP.
func openRemote(ctx context.Context, t transport, opts RemoteOptions) (*Source, error) {
	r := &remoteRepo{t: t, retry: opts.Retry, spool: opts.Spool}
	src := newOSTreeSource()
	src.Dir, src.URL = r.String(), r.String()

	config, err := r.get(ctx, "config", maxSmall)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no ostree repository there (no config): %w", r, fs.ErrNotExist)
	}
	if err != nil {
		return nil, err
	}
	if mode := ostree.ConfigMode(config); mode != "archive" && mode != "archive-z2" {
		return nil, fmt.Errorf("%sconfig: mode %q: only an archive-mode repository can be mirrored", r, mode)
	}
	src.add("config", config)

	refs := map[string]string{}
	var deltas map[string]string // the static deltas the summary offers
	if len(opts.Refs) == 0 {
		summary, err := r.get(ctx, "summary", maxSummary)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: the repository has no summary: name the refs to mirror with --ref", r)
		}
		if err != nil {
			return nil, err
		}
		if refs, err = ostree.ParseSummary(summary); err != nil {
			return nil, fmt.Errorf("%ssummary: %w", r, err)
		}
		if deltas, err = ostree.SummaryDeltas(summary); err != nil {
			return nil, fmt.Errorf("%ssummary: %w", r, err)
		}
		sig, err := r.get(ctx, "summary.sig", maxSummary)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if opts.Keyring != nil {
				return nil, fmt.Errorf("%ssummary.sig: missing, and --gpg-keyring asks for a signed summary; nothing published", r)
			}
		case err != nil:
			return nil, err
		default:
			if opts.Keyring != nil {
				if err := verifySigned(opts.Keyring, summary, sig); err != nil {
					return nil, fmt.Errorf("%ssummary: %w; nothing published", r, err)
				}
			}
			src.add("summary.sig", sig)
		}
		src.add("summary", summary)
	} else {
		for _, name := range opts.Refs {
			data, err := r.get(ctx, "refs/heads/"+name, maxSmall)
			if err != nil {
				return nil, fmt.Errorf("ref %s: %w", name, err)
			}
			sum := strings.TrimSpace(string(data))
			if !manifest.IsSHA256(sum) {
				return nil, fmt.Errorf("%srefs/heads/%s: not a ref: its %d bytes are not a commit checksum", r, name, len(data))
			}
			refs[name] = sum
		}
		slog.Info("mirroring the named refs without the upstream's summary: clients pull them by name, with no summary to verify", "refs", len(refs))
	}
	for _, name := range ostree.SortedRefs(refs) {
		src.add("refs/heads/"+name, []byte(refs[name]+"\n"))
	}
	if src.Upstream, err = r.get(ctx, TraceKey, maxSmall); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		src.Upstream = nil
	} else if !json.Valid(src.Upstream) {
		return nil, fmt.Errorf("%s%s: not JSON", r, TraceKey)
	}
	src.UpstreamRead = time.Now().UTC()
	src.Resolve = func(ctx context.Context, has func(string) bool, full bool) ([]File, error) {
		return r.resolve(ctx, refs, deltas, opts, has, full)
	}
	return src, nil
}

// add puts a file read whole into the source.
func (s *Source) add(rel string, data []byte) { s.Files = append(s.Files, dataFile(rel, data)) }

// dataFile is a file of a remote repository read whole, published as
// its name says (ostree.Classify).
func dataFile(rel string, data []byte) File {
	c := ostree.Classify(rel)
	return memFile(rel, data, int(c.Phase), c.Mutable)
}

// memFile is a file of a remote source read whole, in a phase.
func memFile(rel string, data []byte, phase int, mutable bool) File {
	if data == nil {
		data = []byte{} // nil Data would mean: read Path
	}
	f := File{Rel: rel, Size: int64(len(data)), Phase: phase, Mutable: mutable, Data: data}
	f.SHA256, f.MD5 = dataSums(data)
	return f
}

// transport reads the files of a remote repository.
type transport interface {
	// open reads key; a missing key is fs.ErrNotExist.
	open(ctx context.Context, key string) (io.ReadCloser, error)
	// name is the repository's address, ending in a slash: its URL
	// without credentials.
	name() string
}

// remoteRepo fetches from an upstream repository and checks what it
// fetches.
type remoteRepo struct {
	t     transport
	retry store.RetryPolicy
	spool string
}

// String is the repository's address, ending in a slash.
func (r *remoteRepo) String() string { return r.t.name() }

func (r *remoteRepo) url(key string) string { return r.t.name() + key }

func (r *remoteRepo) open(ctx context.Context, key string) (io.ReadCloser, error) {
	return r.t.open(ctx, key)
}

// httpTransport reads a repository served over HTTP(S), with keep-alive
// and HTTP/2 where offered.
type httpTransport struct {
	base   *url.URL
	client *http.Client
}

func (h *httpTransport) name() string {
	u := *h.base
	u.User = nil
	return u.String()
}

// errHTTP is a failed request; 5xx and 429 are tried again, a 404 or
// 410 is fs.ErrNotExist, another client error store.ErrPermanent.
type errHTTP struct {
	url    string
	status int
}

func (e *errHTTP) Error() string {
	return fmt.Sprintf("%s: %d %s", e.url, e.status, http.StatusText(e.status))
}

func (e *errHTTP) Unwrap() error {
	switch {
	case e.status == http.StatusNotFound || e.status == http.StatusGone:
		return fs.ErrNotExist
	case e.status == http.StatusTooManyRequests || e.status == http.StatusServiceUnavailable:
		return store.ErrThrottled
	case e.status >= 500:
		return nil
	}
	return store.ErrPermanent
}

func (h *httpTransport) open(ctx context.Context, key string) (io.ReadCloser, error) {
	resp, body, err := h.request(ctx, key, "")
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusOK {
		return &sizedBody{ReadCloser: body, size: resp.ContentLength, ranges: resp.Header.Get("Accept-Ranges") == "bytes"}, nil
	}
	body.Close()
	return nil, &errHTTP{url: h.name() + key, status: resp.StatusCode}
}

// stallAfter is how long a response (over HTTP, or from a store) may send
// nothing before the request is given up (and tried again): a server that
// keeps a connection open and sends no more would otherwise hold the run,
// and the destination's lease, for good.
var stallAfter = 60 * time.Second

// request sends a GET of key (with a Range header if rng is set) and
// returns the response and its body, which fails when stallAfter passes
// without a byte.
func (h *httpTransport) request(ctx context.Context, key, rng string) (*http.Response, io.ReadCloser, error) {
	u := *h.base
	u.Path += key
	var resp *http.Response
	body, err := guarded(ctx, h.name()+key, func(ctx context.Context) (io.ReadCloser, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, err
		}
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		if resp, err = h.client.Do(req); err != nil {
			return nil, err
		}
		return resp.Body, nil
	})
	return resp, body, err
}

// guarded opens a response with open, under a context that is cancelled
// once stallAfter passes without a byte (the open itself included), and
// returns its body so guarded.
func guarded(ctx context.Context, url string, open func(context.Context) (io.ReadCloser, error)) (io.ReadCloser, error) {
	ctx, cancel := context.WithCancel(ctx)
	sb := &stallBody{url: url, cancel: cancel}
	sb.timer = time.AfterFunc(stallAfter, sb.stall)
	rc, err := open(ctx)
	if err != nil {
		sb.Close()
		if sb.stalled.Load() {
			return nil, sb.err()
		}
		return nil, err
	}
	sb.rc = rc
	sb.timer.Reset(stallAfter)
	return sb, nil
}

// stallBody is a response body whose reads fail once stallAfter passes
// without a byte.
type stallBody struct {
	url     string
	rc      io.ReadCloser
	timer   *time.Timer
	cancel  context.CancelFunc
	stalled atomic.Bool
}

func (b *stallBody) stall() {
	b.stalled.Store(true)
	b.cancel()
}

func (b *stallBody) err() error {
	return fmt.Errorf("%s: nothing received for %v", b.url, stallAfter)
}

func (b *stallBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.timer.Reset(stallAfter)
	}
	if err != nil && err != io.EOF && b.stalled.Load() {
		err = b.err()
	}
	return n, err
}

func (b *stallBody) Close() error {
	b.timer.Stop()
	b.cancel()
	if b.rc == nil {
		return nil
	}
	return b.rc.Close()
}

// sizedBody is a response body that says how large the file is, and
// whether the server serves ranges of it.
type sizedBody struct {
	io.ReadCloser
	size   int64 // -1 if not said
	ranges bool
}

// size asks for key's size with a HEAD request: -1 if the server does
// not say.
func (h *httpTransport) size(ctx context.Context, key string) (int64, error) {
	u := *h.base
	u.Path += key
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, u.String(), nil)
	if err != nil {
		return 0, err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, &errHTTP{url: h.name() + key, status: resp.StatusCode}
	}
	return resp.ContentLength, nil
}

// ranger is a transport that reads part of a file.
type ranger interface {
	openRange(ctx context.Context, key string, off, n int64) (io.ReadCloser, error)
}

func (h *httpTransport) openRange(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	resp, body, err := h.request(ctx, key, fmt.Sprintf("bytes=%d-%d", off, off+n-1))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusPartialContent {
		return body, nil
	}
	body.Close()
	if resp.StatusCode == http.StatusOK {
		// A server that ignores the range would send the whole file
		// for every part.
		return nil, fmt.Errorf("%s%s: the server answered a range request with the whole file: %w", h.name(), key, store.ErrPermanent)
	}
	return nil, &errHTTP{url: h.name() + key, status: resp.StatusCode}
}

// storeTransport reads a repository from a store.
type storeTransport struct {
	st   Opener
	addr string
}

func (s storeTransport) name() string { return s.addr }

func (s storeTransport) open(ctx context.Context, key string) (io.ReadCloser, error) {
	return guarded(ctx, s.addr+key, func(ctx context.Context) (io.ReadCloser, error) {
		r, err := s.st.Open(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("%s%s: %w", s.addr, key, err)
		}
		return r, nil
	})
}

// get reads key whole, at most limit bytes, trying again after a
// transient failure.
func (r *remoteRepo) get(ctx context.Context, key string, limit int64) ([]byte, error) {
	var data []byte
	err := r.retry.Do(ctx, "fetch", r.url(key), func() error {
		body, err := r.open(ctx, key)
		if err != nil {
			return err
		}
		defer body.Close()
		data, err = io.ReadAll(io.LimitReader(body, limit+1))
		if err == nil && int64(len(data)) > limit {
			return fmt.Errorf("%s%s: more than %d bytes: %w", r, key, limit, store.ErrPermanent)
		}
		return err
	})
	return data, err
}

// fetch fetches a file and checks it (against its name, or the checksum
// that names it), in memory or, past maxInMemory, spooled to a file
// removed once it is uploaded.
func (r *remoteRepo) fetch(ctx context.Context, key string, check func(io.Reader) error) (Fetched, error) {
	var out Fetched
	retry := r.retry
	report := retry.Report
	retry.Report = func(op, key string, attempt int, err error, wait time.Duration) {
		if errors.Is(err, store.ErrThrottled) {
			throttled(ctx)
		}
		if report != nil {
			report(op, key, attempt, err, wait)
		}
	}
	err := retry.Do(ctx, "fetch", r.url(key), func() error {
		body, err := r.open(ctx, key)
		if err != nil {
			return err
		}
		defer body.Close()
		head, err := io.ReadAll(io.LimitReader(body, maxInMemory+1))
		if err != nil {
			return err
		}
		if len(head) <= maxInMemory {
			if err := check(bytes.NewReader(head)); err != nil {
				return permanent(fmt.Errorf("%s: %w", r.url(key), err))
			}
			out = Fetched{Data: head, Size: int64(len(head))}
			return nil
		}
		f, err := os.CreateTemp(r.spool, "mirror-fetch-*")
		if err != nil {
			return fmt.Errorf("spool %s: %w", key, err)
		}
		done := func() { f.Close(); os.Remove(f.Name()) }
		var n int64
		if sb, ok := body.(*sizedBody); ok && sb.ranges && sb.size >= rangeMin {
			// A large file from a server that serves ranges: the rest
			// in parallel parts, each a request of its own.
			body.Close()
			n, err = r.fetchRanges(ctx, key, f, head, sb.size)
		} else {
			n, err = io.Copy(f, io.MultiReader(bytes.NewReader(head), body))
		}
		if err == nil {
			_, err = f.Seek(0, io.SeekStart)
		}
		if err != nil {
			done()
			return fmt.Errorf("spool %s: %w", key, err)
		}
		if err := check(bufio.NewReader(f)); err != nil {
			done()
			return permanent(fmt.Errorf("%s: %w", r.url(key), err))
		}
		out = Fetched{Path: f.Name(), Size: n, Done: done}
		return nil
	})
	return out, err
}

// resolve walks each ref's commit (and Depth parents) to every object it
// needs, fetching and checking every commit, dirtree and dirmeta, and adds
// to the source what the destination lacks (everything, with full):
// metadata in memory, file objects to fetch as they are uploaded. A
// commit the destination holds is not walked unless full: the mirror
// publishes a commit only after everything it needs. An object the
// upstream lacks or serves corrupt stops the run here, before anything is
// published, naming the ref that needs it.
func (r *remoteRepo) resolve(ctx context.Context, refs, deltas map[string]string, opts RemoteOptions, has func(string) bool, full bool) ([]File, error) {
	var files []File
	start := time.Now()
	objs := &upstreamObjects{r: r, data: map[string][]byte{}, needed: map[string]string{}}
	walk := map[string]string{}
	for _, ref := range ostree.SortedRefs(refs) {
		commit := refs[ref]
		for d := 0; d <= opts.Depth; d++ {
			name := ref
			if d > 0 {
				name = fmt.Sprintf("%s^%d", ref, d)
			}
			key := ostree.CommitPath(commit)
			data, err := objs.Read(ctx, key)
			if d > 0 && errors.Is(err, fs.ErrNotExist) {
				break // history pruned upstream: the chain ends here
			}
			if err != nil {
				return nil, fmt.Errorf("ref %s needs %s: %w; nothing published", ref, key, err)
			}
			walked := full || !has(key)
			if walked {
				walk[name] = commit
			}
			if walked || opts.Keyring != nil {
				meta, err := r.commitMeta(ctx, commit, ref, data, opts.Keyring)
				if err != nil {
					return nil, err
				}
				if walked && meta != nil {
					files = append(files, dataFile(metaKey(commit), meta))
				}
			}
			c, err := ostree.ParseCommit(data)
			if err != nil {
				return nil, fmt.Errorf("ref %s needs %s: %w; nothing published", ref, key, err)
			}
			if c.Parent == "" {
				break
			}
			commit = c.Parent
		}
	}
	// One ref at a time, so that each object is known by the first ref
	// that needs it, for the error if the upstream fails to serve it.
	for _, name := range ostree.SortedRefs(walk) {
		objs.ref = name
		gaps, err := ostree.Walk(ctx, map[string]string{name: walk[name]}, objs, max(opts.Jobs, 1))
		if err != nil {
			return nil, err
		}
		if len(gaps) > 0 {
			g := gaps[0]
			more := ""
			if len(gaps) > 1 {
				more = fmt.Sprintf(" (and %d more)", len(gaps)-1)
			}
			return nil, fmt.Errorf("upstream %s: ref %s needs %s, which %s%s; nothing published", r, g.Ref, g.Key, g.Reason, more)
		}
	}
	more, err := r.deltas(ctx, refs, deltas, has, full)
	if err != nil {
		return nil, err
	}
	files = append(files, more...)
	added := len(more)
	for key, ref := range objs.needed {
		if !full && has(key) {
			continue
		}
		added++
		if data, ok := objs.data[key]; ok {
			files = append(files, dataFile(key, data))
			continue
		}
		c := ostree.Classify(key)
		files = append(files, File{Rel: key, Size: -1, Phase: int(c.Phase),
			Fetch: func(ctx context.Context) (Fetched, error) {
				f, err := r.fetch(ctx, key, func(rd io.Reader) error { return ostree.Check(key, rd) })
				if err != nil {
					err = fmt.Errorf("ref %s needs it: %w", ref, err)
				}
				return f, err
			}})
	}
	slog.Info("walked the upstream's refs", "upstream", r.String(), "refs", len(refs), "commits walked", len(walk),
		"objects to fetch", added, "took", time.Since(start).Round(time.Millisecond))
	return files, nil
}

// deltas lists the static deltas to publish: those the summary offers and
// those each ref's delta index names (the index itself too), each
// superblock checked against the sha256 that names it and each part, as
// it is fetched, against the sha256 its superblock gives. A delta whose
// superblock the destination holds is whole there: a superblock goes up
// after its parts.
func (r *remoteRepo) deltas(ctx context.Context, refs, offered map[string]string, has func(string) bool, full bool) ([]File, error) {
	var files []File
	all := maps.Clone(offered)
	if all == nil {
		all = map[string]string{}
	}
	for _, ref := range ostree.SortedRefs(refs) {
		key, err := ostree.DeltaIndexPath(refs[ref])
		if err != nil {
			return nil, err
		}
		data, err := r.get(ctx, key, maxSmall)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		listed, err := ostree.IndexDeltas(data)
		if err != nil {
			return nil, fmt.Errorf("%s%s: %w", r, key, err)
		}
		maps.Copy(all, listed)
		files = append(files, dataFile(key, data))
	}
	for _, name := range slices.Sorted(maps.Keys(all)) {
		dir, err := ostree.DeltaDir(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r, err)
		}
		key := dir + "superblock"
		if !full && has(key) {
			continue
		}
		super, err := r.get(ctx, key, maxMetaBytes)
		if err != nil {
			return nil, fmt.Errorf("upstream %s: static delta %s: %w; nothing published", r, name, err)
		}
		sum, _ := dataSums(super)
		if err := sameSHA256(sum, all[name]); err != nil {
			return nil, fmt.Errorf("upstream %s%s: %w; nothing published", r, key, err)
		}
		parts, err := ostree.DeltaParts(super)
		if err != nil {
			return nil, fmt.Errorf("upstream %s%s: %w; nothing published", r, key, err)
		}
		files = append(files, dataFile(key, super))
		for i, want := range parts {
			part := dir + strconv.Itoa(i)
			if !full && has(part) {
				continue
			}
			files = append(files, File{Rel: part, Size: -1, Phase: int(ostree.Classify(part).Phase),
				Fetch: func(ctx context.Context) (Fetched, error) {
					return r.fetch(ctx, part, func(rd io.Reader) error { return checkArtifact(rd, -1, want) })
				}})
		}
	}
	return files, nil
}

// Ranged fetches: a file of at least rangeMin bytes, from a server that
// serves ranges, is fetched in parts of rangePart bytes, rangeJobs at once
// (variables, so that a test can make them small).
var (
	rangeMin  int64 = 64 << 20
	rangePart int64 = 16 << 20
	rangeJobs       = 8
)

// fetchRanges writes a file of size bytes, whose first bytes are head,
// into f, fetching the rest in parallel parts.
func (r *remoteRepo) fetchRanges(ctx context.Context, key string, f *os.File, head []byte, size int64) (int64, error) {
	rg, ok := r.t.(ranger)
	if !ok {
		return 0, fmt.Errorf("%s: cannot fetch in ranges", r.url(key))
	}
	if _, err := f.WriteAt(head, 0); err != nil {
		return 0, err
	}
	start := int64(len(head))
	parts := int((size - start + rangePart - 1) / rangePart)
	err := parallel.Do(ctx, rangeJobs, parts, func(i int) error {
		off := start + int64(i)*rangePart
		n := min(rangePart, size-off)
		return r.retry.Do(ctx, "fetch range", r.url(key), func() error {
			body, err := rg.openRange(ctx, key, off, n)
			if err != nil {
				return err
			}
			defer body.Close()
			got, err := io.Copy(io.NewOffsetWriter(f, off), io.LimitReader(body, n+1))
			if err == nil && got != n {
				err = fmt.Errorf("%s: bytes %d-%d: %d bytes, not %d", r.url(key), off, off+n-1, got, n)
			}
			return err
		})
	})
	return size, err
}

// sameSHA256 checks a sha256 against the one that named the content.
func sameSHA256(got, want string) error {
	if got != want {
		return fmt.Errorf("%w: sha256 %s, where %s was named", ostree.ErrChecksum, got, want)
	}
	return nil
}

// metaKey is where a commit's detached metadata lives.
func metaKey(commit string) string {
	return strings.TrimSuffix(ostree.CommitPath(commit), ".commit") + ".commitmeta"
}

// commitMeta fetches a commit's detached metadata (nil if it has none)
// and, with a keyring, checks that a trusted key signed the commit.
func (r *remoteRepo) commitMeta(ctx context.Context, commit, ref string, data []byte, keyring openpgp.EntityList) ([]byte, error) {
	key := metaKey(commit)
	meta, err := r.get(ctx, key, maxSmall)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if keyring != nil {
			return nil, fmt.Errorf("upstream %s: ref %s: commit %s is not signed (no %s), and --gpg-keyring asks for signed commits; nothing published", r, ref, commit, key)
		}
		return nil, nil
	case err != nil:
		return nil, err
	}
	if keyring != nil {
		if err := verifySigned(keyring, data, meta); err != nil {
			return nil, fmt.Errorf("upstream %s: ref %s: commit %s: %w; nothing published", r, ref, commit, err)
		}
	}
	return meta, nil
}

// verifySigned checks the signatures that detached metadata holds of
// signed.
func verifySigned(keyring openpgp.EntityList, signed, meta []byte) error {
	sigs, err := ostree.Signatures(meta)
	if err != nil {
		return err
	}
	signer, err := gpgsig.VerifyDetached(keyring, signed, sigs)
	if err != nil {
		return err
	}
	slog.Debug("signature verified", "key", signer)
	return nil
}

// upstreamObjects is the upstream as an ostree.Objects for a walk: every
// object the walk asks about is recorded as needed (its presence is
// learnt when it is fetched), and every metadata object it reads is
// fetched and checked, and kept.
type upstreamObjects struct {
	r      *remoteRepo
	ref    string // the ref being walked
	mu     sync.Mutex
	data   map[string][]byte
	needed map[string]string // object → the first ref that needs it
}

func (o *upstreamObjects) Has(key string) bool {
	o.mu.Lock()
	if _, ok := o.needed[key]; !ok {
		o.needed[key] = o.ref
	}
	o.mu.Unlock()
	return true
}

func (o *upstreamObjects) Read(ctx context.Context, key string) ([]byte, error) {
	o.mu.Lock()
	data, ok := o.data[key]
	o.mu.Unlock()
	if ok {
		return data, nil
	}
	data, err := o.r.get(ctx, key, maxMetaBytes)
	if err != nil {
		return nil, err
	}
	if err := ostree.Check(key, bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("%s: %w", o.r.url(key), err)
	}
	o.mu.Lock()
	o.data[key] = data
	if _, ok := o.needed[key]; !ok {
		o.needed[key] = o.ref
	}
	o.mu.Unlock()
	return data, nil
}

// permanentError is a failure that trying again cannot mend (an object
// whose content is not what its name says), in its own words.
type permanentError struct{ err error }

func permanent(err error) error { return permanentError{err} }

func (e permanentError) Error() string   { return e.err.Error() }
func (e permanentError) Unwrap() []error { return []error{e.err, store.ErrPermanent} }
