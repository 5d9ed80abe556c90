package render

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/projectatomic/atomic-site/internal/sitemap"
	"github.com/projectatomic/atomic-site/internal/view"
)

// Settled pages, rendered apart. Hugo's partial rebuild checks every page
// it holds against each change, and keeps every page's decoded data: at
// ten years of builds, a new build's five pages took a second to render
// and the site two gigabytes to hold. Yet nearly all of those pages are
// old builds' (view.File.Settled), which nothing but their own files, the
// project (templates, config, assets) and the site-wide data changes. So a
// watching Site keeps only the other pages in its long-lived Hugo, and
// renders the settled ones with short-lived Hugos of their own, each given
// the site's other files (not its build pages) and a chunk of settled
// pages, publishing into a directory beside the site from which their
// files are moved into it. A settled page is rendered again when its
// files change, or the project does, or the site-wide data does; one that
// settles keeps what the long-lived Hugo rendered if its files have not
// changed meanwhile. Hugo renders each page from its own files (the
// templates list no pages), so a page renders the same in either Hugo:
// TestIncrementalEqualsFull holds serve to a full build, which renders
// every page with one Hugo.

// apartChunk is how many settled pages one short-lived Hugo renders: it
// bounds the memory they take.
const apartChunk = 2000

// apartPage is a settled page as it was rendered.
type apartPage struct {
	sum     [sha256.Size]byte // of its files
	outputs []string          // what it published, below the publish directory
	urls    []sitemap.URL
	stale   bool // the project or the site's data changed since
	// data are its files' bytes, held: the same slices again (generated
	// bytes are never changed) are the same files, without hashing ten
	// thousand pages' files at every rebuild.
	data [][]byte
}

// newApartPage records files as rendered, to publish outputs.
func newApartPage(files []view.File, outputs []string, urls []sitemap.URL) apartPage {
	a := apartPage{sum: sumFiles(files, nil), outputs: outputs, urls: urls}
	for _, f := range files {
		a.data = append(a.data, f.Data)
	}
	return a
}

// renders reports whether files are what a was rendered from.
func (a *apartPage) renders(files []view.File) bool {
	same := len(files) == len(a.data)
	for i := 0; same && i < len(files); i++ {
		x, y := files[i].Data, a.data[i]
		same = len(x) == len(y) && (len(x) == 0 || &x[0] == &y[0])
	}
	if same {
		return true
	}
	if sumFiles(files, nil) != a.sum {
		return false
	}
	a.data = a.data[:0]
	for _, f := range files {
		a.data = append(a.data, f.Data)
	}
	return true
}

// buildWatched renders the pages that are not settled with the long-lived
// Hugo and the settled ones that need it apart.
func (s *Site) buildWatched(ctx context.Context, generated []view.File, changed []string) error {
	var live, base []view.File
	settled := map[string][]view.File{} // by page
	livePages := map[string]bool{}
	for _, f := range generated {
		switch {
		case f.Settled:
			settled[f.Page] = append(settled[f.Page], f)
			continue
		case f.Page == "":
			base = append(base, f)
		default:
			livePages[f.Page] = true
		}
		live = append(live, f)
	}
	slog.Debug("pages rendered apart", "settled", len(settled), "build pages held", len(livePages))
	// What Hugo reads of the project, but the static files it copies
	// (changed names the manifests too, which reach pages only through
	// generated files; they may be anywhere, inside the project too).
	static := filepath.Join(s.opts.ProjectDir, "site", "static")
	project := func(p string) bool {
		for _, d := range []string{"site", "templates", "content"} {
			if within(filepath.Join(s.opts.ProjectDir, d), p) && !within(static, p) {
				return true
			}
		}
		return false
	}
	rerender := s.builds == 0 || s.restart || slices.ContainsFunc(changed, project)
	// The site-wide data, which every page reads; of the generated
	// files, a build page reads only its own and these.
	if sum := sumFiles(base, func(f view.File) bool { return filepath.Dir(f.Path) == "data" }); sum != s.apartBase {
		s.apartBase, rerender = sum, true
	}
	if rerender {
		for pg, a := range s.apart {
			a.stale = true
			s.apart[pg] = a
		}
	}
	// A page that settles now keeps what the long-lived Hugo rendered of
	// it, if it was rendered from the same files and nothing else changes.
	if !rerender {
		for pg, files := range settled {
			if _, ok := s.apart[pg]; !ok && s.holds(files) {
				if out, urls, ok := pageOf(s.h, pg); ok {
					s.apart[pg] = newApartPage(files, out, urls)
				}
			}
		}
	}
	keep := map[string]bool{}
	for pg := range settled {
		keep[pg] = true
	}
	n, err := s.build(ctx, live, changed, keep)
	if err != nil {
		return err
	}
	for _, pg := range slices.Sorted(maps.Keys(s.apart)) {
		if _, ok := settled[pg]; ok {
			continue
		}
		// No longer settled: the long-lived Hugo renders it now, or it
		// is gone.
		if !livePages[pg] {
			for _, o := range s.apart[pg].outputs {
				p := filepath.Join(s.opts.PublishDir, filepath.FromSlash(o))
				if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return err
				}
				os.Remove(filepath.Dir(p))
			}
		}
		delete(s.apart, pg)
	}
	var todo []string
	for _, pg := range slices.Sorted(maps.Keys(settled)) {
		a, ok := s.apart[pg]
		if !ok || a.stale || !a.renders(settled[pg]) {
			todo = append(todo, pg)
		}
		if ok {
			s.apart[pg] = a
		}
	}
	for len(todo) > 0 {
		chunk := todo[:min(apartChunk, len(todo))]
		todo = todo[len(chunk):]
		if err := s.renderApart(ctx, base, settled, chunk); err != nil {
			return err
		}
		if n >= 0 {
			n += int64(len(chunk))
		}
	}
	s.rendered.Store(n)
	return nil
}

// renderApart renders the settled pages of chunk with a Hugo of their own
// and moves what they publish into the site.
func (s *Site) renderApart(ctx context.Context, base []view.File, settled map[string][]view.File, chunk []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(s.opts.PublishDir), ".sitegen-apart-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	opts := s.opts
	opts.PublishDir, opts.Watch = tmp, false
	h, err := New(opts)
	if err != nil {
		return err
	}
	defer h.Close()
	files := slices.Clip(base)
	for _, pg := range chunk {
		files = append(files, settled[pg]...)
	}
	if err := h.Build(ctx, files, nil); err != nil {
		return err
	}
	for _, pg := range chunk {
		out, urls, ok := pageOf(h.h, pg)
		if !ok {
			return fmt.Errorf("hugo: no page %s", pg)
		}
		for _, o := range out {
			dst := filepath.Join(s.opts.PublishDir, filepath.FromSlash(o))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			if err := os.Rename(filepath.Join(tmp, filepath.FromSlash(o)), dst); err != nil {
				return err
			}
		}
		s.apart[pg] = newApartPage(settled[pg], out, urls)
	}
	return nil
}

// holds reports whether the long-lived Hugo last rendered exactly files.
func (s *Site) holds(files []view.File) bool {
	for _, f := range files {
		if old, ok := s.gen.get(genRoot + "/" + f.Path); !ok || !bytes.Equal(old, f.Data) {
			return false
		}
	}
	return true
}

// sumFiles hashes the paths and bytes of the files that keep (nil: all)
// accepts.
func sumFiles(files []view.File, keep func(view.File) bool) [sha256.Size]byte {
	h := sha256.New()
	for _, f := range files {
		if keep == nil || keep(f) {
			fmt.Fprintf(h, "%s\x00%d\x00", f.Path, len(f.Data))
			h.Write(f.Data)
		}
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}
