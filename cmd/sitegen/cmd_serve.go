package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/projectatomic/atomic-site/internal/cli"

	"github.com/projectatomic/atomic-site/internal/builder"
	"github.com/projectatomic/atomic-site/internal/watch"
)

type serveOptions struct {
	buildOptions
	addr string
}

func newServeCommand() *cobra.Command {
	var opts serveOptions
	cmd := &cobra.Command{
		Use:   "serve --manifests DIR --keys DIR [--addr 127.0.0.1:1313]",
		Short: "Build the site, serve it on loopback, and rebuild when anything changes",
		Long: `Build the site, serve it on a loopback address, and rebuild incrementally
whenever a file changes under the manifests, the keys, site/, templates/ or
content/. A rebuild that fails (a bad manifest, a broken template) is logged
and the last good site goes on being served.`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			bopts, err := opts.builderOptions(cmd)
			if err != nil {
				return err
			}
			return runServe(cmd.Context(), cmd, bopts, opts.addr)
		},
	}
	opts.addFlags(cmd)
	cmd.Flags().StringVar(&opts.addr, "addr", "127.0.0.1:1313", "loopback address to serve on")
	return cmd
}

func runServe(ctx context.Context, cmd *cobra.Command, opts builder.Options, addr string) error {
	if err := checkLoopback(addr); err != nil {
		return err
	}
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
	if _, err := b.Rebuild(ctx, nil); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "serving http://%s/ (Ctrl-C to stop)\n", ln.Addr())
	srv := &http.Server{Handler: siteHandler(pub), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	roots := []string{opts.History.Manifests, opts.History.Keys}
	for _, d := range []string{"site", "templates", "content"} {
		roots = append(roots, filepath.Join(opts.ProjectDir, d))
	}
	watchErr := make(chan error, 1)
	go func() { watchErr <- watch.Dirs(ctx, roots, 100*time.Millisecond, rebuild) }()
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

// siteHandler serves the built site, with its 404 page for what is not there.
func siteHandler(dir string) http.Handler {
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return cli.Usagef("--addr %q: %v", addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return cli.Usagef("--addr %q: serve listens on loopback only (127.0.0.1, ::1, localhost)", addr)
	}
	return nil
}
