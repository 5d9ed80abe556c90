package siteindex

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Reader reads a file of a site by its path from the site root; a file
// the site does not have is an error wrapping fs.ErrNotExist.
type Reader func(p string) ([]byte, error)

// maxFile bounds what is read of one file of a site.
const maxFile = 256 << 20

// Open reads a site from a directory, or from a deployed site's http(s)
// URL.
func Open(ctx context.Context, dirOrURL string) (Reader, error) {
	if strings.HasPrefix(dirOrURL, "https://") || strings.HasPrefix(dirOrURL, "http://") {
		return urlReader(ctx, dirOrURL), nil
	}
	fi, err := os.Stat(dirOrURL)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s: not a directory or an http(s) URL", dirOrURL)
	}
	return func(p string) ([]byte, error) {
		f, err := os.Open(filepath.Join(dirOrURL, filepath.FromSlash(p)))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return io.ReadAll(io.LimitReader(f, maxFile))
	}, nil
}

func urlReader(ctx context.Context, base string) Reader {
	client := &http.Client{Timeout: 60 * time.Second}
	base = strings.TrimSuffix(base, "/") + "/"
	return func(p string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+p, nil)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusNotFound:
			return nil, fmt.Errorf("%s%s: %w", base, p, fs.ErrNotExist)
		case resp.StatusCode != http.StatusOK:
			return nil, fmt.Errorf("%s%s: %s", base, p, resp.Status)
		}
		return io.ReadAll(io.LimitReader(resp.Body, maxFile))
	}
}
