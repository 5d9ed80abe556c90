// Package store is what the mirror engine and its destinations share: the
// objects a destination lists and the uploads it takes, the holder of its
// lease and what killed runs leave behind, and the errors a destination
// reports. The backends (store/s3, store/local) import this package and
// never the engine, as restic's backends import only its small shared
// types; the engine declares the interfaces it needs of them.
package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Object is what a store's listing says of one key.
type Object struct {
	Key    string
	Size   int64
	SHA256 string // from the object's metadata, where the listing has it
	ETag   string
	// Symlink marks a symbolic link in a local destination: never
	// followed, replaced or deleted.
	Symlink bool
}

// Upload is one file to put.
type Upload struct {
	Key          string
	Path         string // the local file
	Size         int64
	SHA256       string // stored in the object's metadata
	ContentType  string
	CacheControl string
	// Data, when set, is the content, read before the upload began; Path
	// then only names it, if anything.
	Data []byte
}

// Body opens what to upload: Data, or the file at Path.
func (u Upload) Body() (io.ReadSeekCloser, error) {
	if u.Data != nil {
		return nopCloser{bytes.NewReader(u.Data)}, nil
	}
	return os.Open(u.Path)
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// StateDir is the mirror's own directory at a destination: its lease,
// pending deletions and trace. It is never published from a source.
const StateDir = ".mirror/"

// LockKey is the lease of a destination: one sync at a time writes there.
const LockKey = StateDir + "lock"

// Holder says who holds a destination's lease.
type Holder struct {
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Tool    string    `json:"tool"`
	Started time.Time `json:"started"`
	Expires time.Time `json:"expires,omitzero"` // zero for a local lock, which dies with its process
}

func (h Holder) String() string {
	s := fmt.Sprintf("host %s, pid %d, %s, since %s", h.Host, h.PID, h.Tool, h.Started.Format(time.RFC3339))
	if !h.Expires.IsZero() {
		s += ", lease expires " + h.Expires.Format(time.RFC3339)
	}
	return s
}

// Lease is a destination held by this run.
type Lease interface {
	// Ready waits until the lease is known to exclude other runs (on S3,
	// until the check that the store honours conditional writes, made
	// while the run lists the destination, is back). Nothing may be
	// written before.
	Ready(ctx context.Context) error
	// Check confirms, with a request, that the lease is still this run's.
	Check(ctx context.Context) error
	// Release gives the lease up.
	Release(ctx context.Context) error
}

// Leftover is what a killed run left at a destination: an incomplete
// multipart upload (S3), or a temporary file (a directory).
type Leftover struct {
	Key     string
	ID      string // the upload's ID, for S3
	Size    int64
	Started time.Time
	Kind    string // "incomplete upload", "temporary file" or "staged copy"
}

// Errors a store's calls wrap, for errors.Is.
var (
	// ErrNoServerCopy says a store cannot copy an object server side and
	// vouch for the copy (another server, an object too large, a server
	// that computes no checksum): the caller fetches it instead. Trying
	// again cannot change that.
	ErrNoServerCopy = fmt.Errorf("no checked server-side copy: %w", ErrPermanent)
	// ErrPermanent marks errors that trying again cannot fix (access
	// denied, no such bucket, a full disk).
	ErrPermanent = errors.New("permanent")
	// ErrThrottled marks an answer that asks for fewer requests
	// (SlowDown, 503, 429).
	ErrThrottled = errors.New("throttled")
	// ErrConflict is a conditional write that found the object not as it
	// expected.
	ErrConflict = errors.New("precondition failed")
	// ErrLocked is wrapped by the error of a run refused because another
	// holds the destination.
	ErrLocked = errors.New("locked")
)

// LockedError names the holder of a destination.
type LockedError struct {
	Dest   string
	Holder Holder
	// Flock is set for a directory's lock, which ends with its process:
	// no command can release it for another.
	Flock bool
}

func (e *LockedError) Error() string {
	if e.Flock {
		return fmt.Sprintf("%s is being synced by another run (%s); its lock ends with that process, so wait for it, or stop it (kill %d) if it must not finish",
			e.Dest, e.Holder, e.Holder.PID)
	}
	return fmt.Sprintf("%s is being synced by another run (%s); if that run is dead, wait for its lease to expire or run: mirror unlock %s",
		e.Dest, e.Holder, e.Dest)
}

func (e *LockedError) Unwrap() error { return ErrLocked }
