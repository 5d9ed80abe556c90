// Package lockfile is a lock that says who holds it and dies with its
// holder, as restic's locks do: a file beside what it guards, holding the
// holder's host, pid and start time, that appears whole (written aside,
// then hard-linked into place, which fails if it exists), so two runs
// started together cannot both take it. A lock whose holder was a process
// of this host that is gone is taken over.
package lockfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// ErrLocked says another run holds the lock.
var ErrLocked = errors.New("locked")

// holder is what a lock file says of the run that holds it.
type holder struct {
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
}

// Acquire takes the lock at path, or says who holds it; what names the
// kind of run ("promote", "build") in that message.
func Acquire(path, what string) (unlock func(), err error) {
	host, _ := os.Hostname()
	me := holder{Host: host, PID: os.Getpid(), Started: time.Now().UTC()}
	data, _ := json.Marshal(me)
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for attempt := 0; ; attempt++ {
		err := os.Link(tmp.Name(), path)
		if err == nil {
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		var h holder
		raw, rerr := os.ReadFile(path)
		if rerr == nil {
			rerr = json.Unmarshal(raw, &h)
		}
		if attempt == 0 && rerr == nil && h.Host == host && !Alive(h.PID) {
			os.Remove(path) // its holder died: take it over
			continue
		}
		if rerr != nil {
			return nil, fmt.Errorf("%w: %s exists and cannot be read (%v); if no %s is running, remove it", ErrLocked, path, rerr, what)
		}
		return nil, fmt.Errorf("%w: another %s (host %s, pid %d, since %s) holds %s; if it is not running, remove that file",
			ErrLocked, what, h.Host, h.PID, h.Started.Format(time.RFC3339), path)
	}
}
