package siteindex

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"path"
	"strings"
	"time"

	fcosstream "github.com/coreos/stream-metadata-go/stream"

	"github.com/projectatomic/atomic-site/internal/trust"
)

// Verifier checks a file's bytes against its detached signature;
// *trust.Keyring is one.
type Verifier interface {
	Verify(data, sig []byte) (string, error)
}

// Report is what Check found: the index, and every problem, each naming
// its file.
type Report struct {
	Index    *Index
	Problems []error
}

// Check checks a deployed site as a client or a monitoring probe would:
// the index's signature, that it has not expired at now, every listed
// file's size and sha256, and that each stream's build page links every
// artifact its stream metadata names. The error is for a site that could
// not be checked at all (no index, a bad signature); problems with files
// are in the report.
func Check(read Reader, keys Verifier, now time.Time) (*Report, error) {
	data, err := read(Path)
	if err != nil {
		return nil, err
	}
	sig, err := read(Path + trust.SigSuffix)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s%s: missing: the index is not signed", Path, trust.SigSuffix)
	}
	if err != nil {
		return nil, err
	}
	if _, err := keys.Verify(data, sig); err != nil {
		return nil, fmt.Errorf("%s: %w", Path, err)
	}
	idx, err := Parse(data)
	if err != nil {
		return nil, err
	}
	rep := &Report{Index: idx}
	problem := func(err error) { rep.Problems = append(rep.Problems, err) }
	if err := idx.Fresh(now); err != nil {
		problem(err)
	}
	files := map[string][]byte{}
	for _, p := range idx.Paths() {
		data, err := read(p)
		if err != nil {
			problem(err)
			continue
		}
		if err := idx.CheckFile(p, data); err != nil {
			problem(err)
			continue
		}
		files[p] = data
	}
	for _, p := range idx.Paths() {
		stream, ok := streamMetadata(p)
		if !ok || files[p] == nil {
			continue
		}
		for _, err := range checkBuildPage(read, stream, p, files[p]) {
			problem(err)
		}
	}
	return rep, nil
}

// streamMetadata says whether p is a stream's metadata, streams/S.json
// (not its copy under its digest).
func streamMetadata(p string) (string, bool) {
	dir, file := path.Split(p)
	name, ok := strings.CutSuffix(file, ".json")
	return name, ok && dir == "streams/" && !strings.Contains(name, ".sha256-")
}

// checkBuildPage checks that the page of the stream's current build links
// every artifact the stream metadata names.
func checkBuildPage(read Reader, stream, p string, data []byte) []error {
	var sm fcosstream.Stream
	if err := json.Unmarshal(data, &sm); err != nil {
		return []error{fmt.Errorf("%s: %w", p, err)}
	}
	var errs []error
	pages := map[string]string{}
	for _, a := range sm.Architectures {
		for _, pa := range a.Artifacts {
			page := "streams/" + stream + "/" + pa.Release + "/index.html"
			if _, ok := pages[page]; !ok {
				body, err := read(page)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: the build page %s named by %s: %w", page, pa.Release, p, err))
				}
				pages[page] = string(body)
			}
			for _, f := range pa.Formats {
				for _, art := range []*fcosstream.Artifact{f.Disk, f.Kernel, f.Initramfs, f.Rootfs} {
					if art != nil && !strings.Contains(pages[page], `href="`+html.EscapeString(art.Location)+`"`) {
						errs = append(errs, fmt.Errorf("%s: does not link %s, which %s names", page, art.Location, p))
					}
				}
			}
		}
	}
	return errs
}
