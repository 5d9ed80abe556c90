// Package importer turns what the compose pipeline already writes into
// release manifests ready to be signed: a Fedora CoreOS release.json, or a
// Fedora CHECKSUM file (its OpenPGP clear signature checked against a
// keyring, with ProtonMail's maintained OpenPGP library).
package importer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"

	"github.com/projectatomic/atomic-site/internal/manifest"
)

// Marshal writes a manifest as the pipeline signs it, checked by the same
// parser every reader uses.
func Marshal(name string, b *manifest.Build) ([]byte, error) {
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return nil, err
	}
	data = append(data, '\n')
	if _, err := manifest.ParseBuild(name, data); err != nil {
		return nil, fmt.Errorf("imported manifest is not valid: %w", err)
	}
	return data, nil
}

// FCOSRelease reads a Fedora CoreOS release.json and returns it as a build
// of stream (which may differ from the stream the file names).
func FCOSRelease(name string, data []byte, stream string) (*manifest.Build, error) {
	b, err := manifest.ParseBuild(name, data)
	if err != nil {
		return nil, err
	}
	b.Schema = manifest.BuildSchema
	b.Stream = stream
	if b.Status == "" {
		b.Status = manifest.StatusReleased
	}
	return b, nil
}

// Entry is one file of a CHECKSUM file.
type Entry struct {
	Name   string
	Size   *int64 // from a "# NAME: N bytes" line, where there is one
	SHA256 string
}

var (
	sumLine  = regexp.MustCompile(`^SHA256 \((.+)\) = ([0-9a-fA-F]{64})$`)
	sizeLine = regexp.MustCompile(`^# (.+): ([0-9]+) bytes$`)
)

// ErrBadSignature is returned when a clear signature does not verify.
var ErrBadSignature = errors.New("OpenPGP signature does not verify")

// ParseChecksum reads a Fedora CHECKSUM file, clear-signed or not. With a
// keyring, a clear signature must verify with one of its keys, and an
// unsigned file is refused; without one, a signature is not checked (and a
// warning says so).
func ParseChecksum(name string, data []byte, keyring openpgp.EntityList) ([]Entry, error) {
	body := data
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("-----BEGIN PGP SIGNED MESSAGE-----")) {
		block, _ := clearsign.Decode(data)
		if block == nil {
			return nil, fmt.Errorf("%s: malformed OpenPGP clear signature", name)
		}
		if keyring != nil {
			signer, err := block.VerifySignature(keyring, nil)
			if err != nil {
				return nil, fmt.Errorf("%s: %w: %v", name, ErrBadSignature, err)
			}
			slog.Info("CHECKSUM signature verified", "file", name, "key", fmt.Sprintf("%X", signer.PrimaryKey.Fingerprint))
		} else {
			slog.Warn("CHECKSUM is signed, but no keyring was given: the signature is not checked", "file", name)
		}
		body = block.Plaintext
	} else if keyring != nil {
		return nil, fmt.Errorf("%s: not signed, but a keyring was given", name)
	}
	sizes := map[string]int64{}
	var entries []Entry
	sc := bufio.NewScanner(bytes.NewReader(body))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
		case sizeLine.MatchString(line):
			m := sizeLine.FindStringSubmatch(line)
			size, err := strconv.ParseInt(m[2], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: size: %w", name, n, err)
			}
			sizes[m[1]] = size
		case strings.HasPrefix(line, "#"):
		case sumLine.MatchString(line):
			m := sumLine.FindStringSubmatch(line)
			// The name becomes part of a download URL: a plain file name
			// only, never a path that leaves the release's directory.
			if m[1] == "." || m[1] == ".." || strings.ContainsAny(m[1], "/\\\x00") {
				return nil, fmt.Errorf("%s:%d: %q is not a plain file name", name, n, m[1])
			}
			entries = append(entries, Entry{Name: m[1], SHA256: strings.ToLower(m[2])})
		default:
			return nil, fmt.Errorf("%s:%d: not a CHECKSUM line: %q", name, n, line)
		}
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("%s: no SHA256 lines", name)
	}
	for i := range entries {
		if s, ok := sizes[entries[i].Name]; ok {
			entries[i].Size = &s
		}
	}
	return entries, nil
}

// ChecksumOptions say what the CHECKSUM file does not.
type ChecksumOptions struct {
	Stream, Release string
	// BaseURL is where the files are downloaded from; or Dir, their
	// directory relative to the stream's, for relative locations.
	BaseURL, Dir string
	Title        string
	BuildDate    time.Time // zero: the date in the release string
	// The test result: Failed with the FailureTracker that tracks why,
	// and Tests, the test run.
	Failed         bool
	FailureTracker string
	Tests          string
	// OSTree is the build's commit and ref, if it has one.
	OSTree *manifest.OSTree
}

var arches = []string{"x86_64", "aarch64", "ppc64le", "s390x", "armhfp", "i386"}

// formats maps a file name's ending to its platform and format, as Atom
// Host ships them.
var formats = []struct{ suffix, platform, format string }{
	{".vagrant-libvirt.box", "vagrant", "vagrant-libvirt"},
	{".vagrant-virtualbox.box", "vagrant", "vagrant-virtualbox"},
	{".qcow2.xz", "qemu", "qcow2.xz"},
	{".qcow2", "qemu", "qcow2"},
	{".raw.xz", "metal", "raw.xz"},
	{".iso", "metal", "iso"},
	{".tar.gz", "gcp", "tar.gz"},
	{".vmdk.xz", "aws", "vmdk.xz"},
	{".ova", "vmware", "ova"},
}

// FromChecksum makes a build from CHECKSUM entries: the architecture and
// format come from each file's name.
func FromChecksum(entries []Entry, opts ChecksumOptions) (*manifest.Build, error) {
	b := &manifest.Build{
		Schema:        manifest.BuildSchema,
		Stream:        opts.Stream,
		Release:       opts.Release,
		Title:         opts.Title,
		Status:        manifest.StatusReleased,
		Tests:         opts.Tests,
		OSTree:        opts.OSTree,
		Architectures: map[string]*manifest.Architecture{},
	}
	if opts.Failed {
		b.Status, b.FailureTracker = manifest.StatusFailed, opts.FailureTracker
	}
	if !opts.BuildDate.IsZero() {
		d := opts.BuildDate.UTC()
		b.BuildDate = &d
	}
	base := strings.TrimSuffix(opts.BaseURL, "/")
	if opts.Dir != "" {
		base = strings.Trim(opts.Dir, "/")
	}
	for _, e := range entries {
		arch := ""
		for _, a := range arches {
			if strings.Contains(e.Name, a) {
				arch = a
				break
			}
		}
		if arch == "" {
			return nil, fmt.Errorf("%s: no architecture (%s) in the file name", e.Name, strings.Join(arches, ", "))
		}
		platform, format := "", ""
		for _, f := range formats {
			if strings.HasSuffix(e.Name, f.suffix) {
				platform, format = f.platform, f.format
				break
			}
		}
		if format == "" {
			return nil, fmt.Errorf("%s: unknown image format (known endings: .qcow2, .raw.xz, .iso, .vagrant-libvirt.box, …)", e.Name)
		}
		a := b.Architectures[arch]
		if a == nil {
			a = &manifest.Architecture{Media: map[string]*manifest.Platform{}}
			b.Architectures[arch] = a
		}
		p := a.Media[platform]
		if p == nil {
			p = &manifest.Platform{Artifacts: map[string]manifest.Format{}}
			a.Media[platform] = p
		}
		if _, dup := p.Artifacts[format]; dup {
			return nil, fmt.Errorf("%s: a second %s %s image in one build", e.Name, arch, format)
		}
		p.Artifacts[format] = manifest.Format{"disk": {Location: base + "/" + e.Name, Size: e.Size, SHA256: e.SHA256}}
	}
	return b, nil
}
