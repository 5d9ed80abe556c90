// Package preview serves a site being worked on: built once, served on a
// listener, and rebuilt incrementally whenever a manifest, a key or a
// project file changes. A rebuild that fails is logged and the last good
// site goes on being served.
package preview

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/projectatomic/atomic-site/internal/builder"
	"github.com/projectatomic/atomic-site/internal/watch"
)

// Serve builds the site, calls ready with its URL, and serves it on ln
// until ctx is done, rebuilding on every change.
func Serve(ctx context.Context, opts builder.Options, ln net.Listener, ready func(url string)) error {
	pub, err := os.MkdirTemp("", "sitegen-serve-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(pub)
	b, err := builder.New(opts, pub, true)
	if err != nil {
		return err
	}
	var mu sync.Mutex // one build at a time; requests read files only
	rebuild := func(changed []string) {
		mu.Lock()
		defer mu.Unlock()
		start := time.Now()
		res, err := b.Rebuild(ctx, changed)
		if err != nil {
			slog.Error("rebuild failed; still serving the last good site", "err", err)
			return
		}
		slog.Info("rebuilt", "pages", res.Pages, "took", time.Since(start).Round(time.Millisecond), "changed", len(changed))
	}
	roots := []string{opts.History.Manifests, opts.History.Keys}
	for _, d := range []string{"site", "templates", "content"} {
		roots = append(roots, filepath.Join(opts.ProjectDir, d))
	}
	// Watch before the first build reads anything: a manifest written while
	// it runs (a long one, with years of history) makes a rebuild after it.
	w, err := watch.New(roots)
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	if _, err := b.Rebuild(ctx, nil); err != nil {
		w.Close()
		return err
	}
	ready(fmt.Sprintf("http://%s/", ln.Addr()))
	srv := &http.Server{Handler: Handler(pub), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	watchErr := make(chan error, 1)
	go func() { watchErr <- w.Run(ctx, 100*time.Millisecond, rebuild) }()
	err = srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	select {
	case werr := <-watchErr:
		if werr != nil {
			return fmt.Errorf("watch: %w", werr)
		}
	default:
	}
	return err
}

// Handler serves a built site, with its 404 page for what is not there.
// The site's _redirects rules answer as production answers them: with
// their status, before any file at the same path.
func Handler(dir string) http.Handler {
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if to, code, ok := redirect(dir, r.URL.Path); ok {
			http.Redirect(w, r, to, code)
			return
		}
		p := filepath.Join(dir, filepath.FromSlash(filepath.Clean("/"+r.URL.Path)))
		if fi, err := os.Stat(p); err != nil || (fi.IsDir() && !exists(filepath.Join(p, "index.html"))) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			if data, err := os.ReadFile(filepath.Join(dir, "404.html")); err == nil {
				w.Write(data)
			}
			return
		}
		files.ServeHTTP(w, r)
	})
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// redirect finds the _redirects rule for p, with or without a trailing
// slash. The file is read at each request: it is small, and serve
// rewrites it on every rebuild.
func redirect(dir, p string) (to string, code int, ok bool) {
	data, err := os.ReadFile(filepath.Join(dir, "_redirects"))
	if err != nil {
		return "", 0, false
	}
	want := strings.TrimSuffix(p, "/")
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || strings.HasPrefix(f[0], "#") || f[0] != want {
			continue
		}
		code, err := strconv.Atoi(strings.TrimSuffix(f[2], "!"))
		if err != nil || code < 300 || code > 399 {
			continue
		}
		return f[1], code, true
	}
	return "", 0, false
}
