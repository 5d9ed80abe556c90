package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/projectatomic/atomic-site/internal/bytesize"
	"github.com/projectatomic/atomic-site/internal/testkit/synth"
	"github.com/projectatomic/atomic-site/internal/trust"
)

// regionCopy measures a region fed from the primary's release tree on the
// same server: mirror sync s3:// s3://, whose artifacts the server copies
// and checks, beside the same sync made to fetch every byte (the source
// named by another address of the server), and beside rclone and s5cmd,
// whose server-side copies check nothing. The release has images images of
// size bytes.
func (p peers) regionCopy(ctx context.Context, work string, images int, size int64) error {
	tree := filepath.Join(work, "region-tree")
	if err := bigRelease(tree, images, size); err != nil {
		return err
	}
	keys, err := filepath.Abs("testdata/keys")
	if err != nil {
		return err
	}
	fmt.Printf("\nregion copy: a release of %d images of %s, from one bucket to another on one MinIO\n", images, bytesize.Format(size))
	for _, b := range []string{"rc-primary", "rc-region", "rc-fetched", "rc-rclone", "rc-s5cmd"} {
		if _, err := p.srv.NewBucket(ctx, b, ""); err != nil {
			return err
		}
	}
	if _, err := timed(nil, p.mirror, "sync", tree, "s3://rc-primary/pub", "--endpoint", p.srv.Endpoint, "--keys", keys, "--progress", "none"); err != nil {
		return err
	}
	// The same server by another name: the mirror cannot tell it is the
	// same one, and fetches every byte.
	other := strings.Replace(p.srv.Endpoint, "127.0.0.1", "localhost", 1)
	var rep struct {
		Bytes       int64 `json:"uploaded_bytes"`
		CopiedBytes int64 `json:"server_copied_bytes"`
	}
	copied, err := timed(nil, p.mirror, "sync", "s3://rc-primary/pub", "s3://rc-region/pub", "--src-endpoint", p.srv.Endpoint, "--endpoint", p.srv.Endpoint,
		"--keys", keys, "--progress", "none", "--json")
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(copied.out), &rep); err != nil {
		return fmt.Errorf("mirror sync --json: %v", err)
	}
	fetched, err := timed(nil, p.mirror, "sync", "s3://rc-primary/pub", "s3://rc-fetched/pub", "--src-endpoint", other, "--endpoint", p.srv.Endpoint,
		"--keys", keys, "--progress", "none")
	if err != nil {
		return err
	}
	rc, err := timed(rcloneEnv(p.srv.Endpoint), "rclone", "sync", "bench:rc-primary/pub", "bench:rc-rclone/pub")
	if err != nil {
		return err
	}
	s5, err := timed([]string{"AWS_REGION=us-east-1"}, p.s5cmd, "--endpoint-url", p.srv.Endpoint, "cp", "s3://rc-primary/pub/*", "s3://rc-s5cmd/pub/")
	if err != nil {
		return err
	}
	row("mirror sync s3:// s3:// (server copies, checked)", secs(copied.wall), "",
		fmt.Sprintf("%s of %s copied by the server", bytesize.Format(rep.CopiedBytes), bytesize.Format(rep.Bytes)))
	row("mirror sync s3:// s3:// (every byte fetched)", secs(fetched.wall), "", "")
	row("rclone sync (server-side copy, unchecked)", secs(rc.wall), "", "")
	row("s5cmd cp (server-side copy, unchecked)", secs(s5.wall), "", "")
	row("region copy: checked server copy / fetching every byte", fmt.Sprintf("%.2fx", copied.wall.Seconds()/fetched.wall.Seconds()), "", "")
	row("region copy: checked server copy / rclone", fmt.Sprintf("%.2fx", copied.wall.Seconds()/rc.wall.Seconds()), "", "")
	return nil
}

// bigRelease writes a signed release whose first images artifacts are
// size bytes of random data each, and the rest small.
func bigRelease(dir string, images int, size int64) error {
	signer, err := trust.LoadSigner("testdata/test-signing.key")
	if err != nil {
		return err
	}
	b := synth.Build("stable", "28.20180601.0", time.Date(2018, 6, 1, 0, 0, 0, 0, time.UTC), "x86_64")
	n := 0
	for _, a := range b.Architectures {
		for _, m := range a.Media {
			for _, f := range m.Artifacts {
				for _, art := range f {
					p := filepath.Join(dir, "stable", filepath.FromSlash(art.Location))
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						return err
					}
					want := int64(4096)
					if n < images {
						want = size
					}
					n++
					sum, err := randomFile(p, want)
					if err != nil {
						return err
					}
					art.SHA256, art.Size, art.Signature = sum, &want, ""
				}
			}
		}
	}
	return synth.WriteBuild(dir, signer, b)
}

// randomFile writes size random bytes to path and returns their sha256.
func randomFile(path string, size int64) (string, error) {
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(f, h), rand.Reader, size); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), f.Close()
}
