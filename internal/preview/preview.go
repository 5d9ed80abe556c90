// Package preview serves a site being worked on: built once, served on a
// listener, and rebuilt incrementally whenever a manifest, a key or a
// project file changes. A rebuild that fails is logged and the last good
// site goes on being served.
package preview

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/language"

	"github.com/projectatomic/atomic-site/internal/builder"
	"github.com/projectatomic/atomic-site/internal/watch"
)

// Serve builds the site, calls ready with its URL, and serves it on ln
// until ctx is done, rebuilding on every change, and when the clock
// reaches a moment the site changes by itself (a stream turns stale, a
// release day passes). report hears one line per rebuild: what changed,
// how many pages Hugo rendered and how long it took, or why it failed.
func Serve(ctx context.Context, opts builder.Options, ln net.Listener, ready func(url string), report func(line string)) error {
	pub, err := os.MkdirTemp("", "sitegen-serve-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(pub)
	b, err := builder.New(opts, pub, true)
	if err != nil {
		return err
	}
	defer b.Close()
	var (
		mu    sync.Mutex // one build at a time; requests read files only
		timer *time.Timer
	)
	var rebuild func(why string, changed []string)
	// schedule rebuilds when time alone changes the site next, on the
	// system's clock (a site judged at a fixed --now never changes so).
	clock := opts.History.Now.IsZero() && opts.History.Clock == nil
	schedule := func(res *builder.Result) {
		if timer != nil {
			timer.Stop()
		}
		if res.NextChange.IsZero() || !clock {
			return
		}
		why := fmt.Sprintf("the clock reached %s (%s)", res.NextChange.UTC().Format(time.RFC3339), res.Why)
		timer = time.AfterFunc(time.Until(res.NextChange), func() { rebuild(why, nil) })
	}
	rebuild = func(why string, changed []string) {
		mu.Lock()
		defer mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		start := time.Now()
		res, err := b.Rebuild(ctx, changed)
		if err != nil {
			report(fmt.Sprintf("rebuild after %s failed; still serving the last good site: %s", why, oneLine(err)))
			return
		}
		report(fmt.Sprintf("rebuilt after %s: %d pages rendered in %s", why, res.Rendered, time.Since(start).Round(time.Millisecond)))
		schedule(res)
	}
	roots := []string{opts.History.Manifests, opts.History.Keys}
	for _, d := range []string{"site", "templates", "content", "po"} {
		p := filepath.Join(opts.ProjectDir, d)
		if d == "po" && !exists(p) {
			continue // a project with English alone
		}
		roots = append(roots, p)
	}
	// Watch before the first build reads anything: a manifest written while
	// it runs (a long one, with years of history) makes a rebuild after it.
	w, err := watch.New(roots)
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	res, err := b.Rebuild(ctx, nil)
	if err != nil {
		w.Close()
		return err
	}
	mu.Lock()
	schedule(res)
	mu.Unlock()
	defer func() {
		mu.Lock()
		if timer != nil {
			timer.Stop()
		}
		mu.Unlock()
	}()
	ready(fmt.Sprintf("http://%s/", ln.Addr()))
	srv := &http.Server{Handler: Handler(pub), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	watchErr := make(chan error, 1)
	go func() {
		watchErr <- w.Run(ctx, 100*time.Millisecond, func(changed []string) { rebuild(describe(changed), changed) })
	}()
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

// describe names what changed: the files, or how many and the first
// three.
func describe(changed []string) string {
	names := make([]string, 0, 3)
	for _, p := range changed[:min(len(changed), 3)] {
		names = append(names, filepath.Base(p))
	}
	list := strings.Join(names, ", ")
	if len(changed) > 3 {
		list += fmt.Sprintf(" and %d more", len(changed)-3)
	}
	return "changes to " + list
}

// oneLine joins the lines of an error.
func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

// Handler serves a built site, with its 404 page for what is not there.
// The site's _redirects rules answer as production answers them: with
// their status, before any file at the same path; a rule with a Language=
// condition (the home page in the visitor's language) by the request's
// Accept-Language; a 200 rule by serving its target.
func Handler(dir string) http.Handler {
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		to, code, ok, vary := redirect(dir, r)
		if vary {
			// The answer depends on the browser's language: a cache in
			// between must not give one visitor's to another.
			w.Header().Add("Vary", "Accept-Language")
		}
		if ok {
			if code != http.StatusOK {
				http.Redirect(w, r, to, code)
				return
			}
			r.URL.Path = to
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

// redirect finds the _redirects rule for r's path, with or without a
// trailing slash. Of the rules with a Language= condition for the path,
// the one of the language of the site's that best matches the request's
// Accept-Language answers, unless that is the site's own (the path's
// page). The file is read at each request: it is small, and serve
// rewrites it on every rebuild.
func redirect(dir string, r *http.Request) (to string, code int, ok, vary bool) {
	data, err := os.ReadFile(filepath.Join(dir, "_redirects"))
	if err != nil {
		return "", 0, false, false
	}
	want := strings.TrimSuffix(r.URL.Path, "/")
	type rule struct {
		to   string
		code int
	}
	byLang := map[language.Tag]rule{}
	tags := []language.Tag{language.English} // the site's own: no redirect
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || strings.HasPrefix(f[0], "#") || strings.TrimSuffix(f[0], "/") != want {
			continue
		}
		code, err := strconv.Atoi(strings.TrimSuffix(f[2], "!"))
		if err != nil || (code != http.StatusOK && (code < 300 || code > 399)) {
			continue
		}
		lang, conditional := "", false
		for _, c := range f[3:] {
			if v, ok := strings.CutPrefix(c, "Language="); ok {
				lang, conditional = v, true
			}
		}
		if !conditional {
			return f[1], code, true, len(tags) > 1
		}
		for l := range strings.SplitSeq(lang, ",") {
			if t, err := language.Parse(l); err == nil {
				tags = append(tags, t)
				byLang[t] = rule{f[1], code}
			}
		}
	}
	if len(tags) == 1 {
		return "", 0, false, false
	}
	accept, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if len(accept) == 0 {
		return "", 0, false, true
	}
	_, i, conf := language.NewMatcher(tags).Match(accept...)
	if i == 0 || conf == language.No {
		return "", 0, false, true
	}
	ru := byLang[tags[i]]
	return ru.to, ru.code, true, true
}
