package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/projectatomic/atomic-site/internal/bytesize"
	"github.com/projectatomic/atomic-site/internal/mirror"
)

// progress is a mirror.Progress that can be closed.
type progress interface {
	mirror.Progress
	Close()
}

// newProgress picks bars on a terminal, log lines elsewhere.
func newProgress(mode, dest string, w io.Writer) progress {
	if mode == "auto" {
		mode = "log"
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			mode = "bar"
		}
	}
	switch mode {
	case "bar":
		return &barProgress{p: mpb.New(mpb.WithOutput(w), mpb.WithWidth(40)), dest: dest}
	case "none":
		return nopProgress{}
	default:
		return newLogProgress(dest, 5*time.Second)
	}
}

type nopProgress struct{}

func (nopProgress) PhaseStart(string, int, int64) {}
func (nopProgress) Uploaded(mirror.File)          {}
func (nopProgress) PhaseDone(string)              {}
func (nopProgress) Close()                        {}

// barProgress draws one bar a phase: files, bytes, rate and ETA, with
// mpb (well kept, used by restic's kin, and it redraws several bars
// without flicker).
type barProgress struct {
	p    *mpb.Progress
	dest string
	mu   sync.Mutex
	bar  *mpb.Bar
	n    atomic.Int64
	of   int
}

func (b *barProgress) PhaseStart(name string, files int, bytes int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n.Store(0)
	b.of = files
	b.bar = b.p.New(bytes, mpb.BarStyle(),
		mpb.PrependDecorators(
			decor.Name(fmt.Sprintf("%-18s", name)),
			decor.Any(func(decor.Statistics) string { return fmt.Sprintf("%d/%d files ", b.n.Load(), b.of) }),
			decor.Counters(decor.SizeB1024(0), "% .1f / % .1f"),
		),
		mpb.AppendDecorators(
			decor.AverageSpeed(decor.SizeB1024(0), " % .1f", decor.WCSyncSpace),
			decor.Name(" ETA "), decor.AverageETA(decor.ET_STYLE_GO),
		),
	)
}

func (b *barProgress) Uploaded(f mirror.File) {
	b.n.Add(1)
	b.mu.Lock()
	bar := b.bar
	b.mu.Unlock()
	if bar != nil {
		bar.IncrInt64(f.Size)
	}
}

func (b *barProgress) PhaseDone(string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bar != nil {
		b.bar.SetTotal(-1, true)
	}
}

func (b *barProgress) Close() {
	b.mu.Lock()
	if b.bar != nil && !b.bar.Completed() {
		b.bar.Abort(false)
	}
	b.mu.Unlock()
	b.p.Wait()
}

// logProgress logs a line per phase and, every interval, how far it got.
type logProgress struct {
	dest     string
	mu       sync.Mutex
	phase    string
	files    int
	bytes    int64
	n        int
	done     int64
	start    time.Time
	stop     chan struct{}
	stopOnce sync.Once
}

func newLogProgress(dest string, every time.Duration) *logProgress {
	l := &logProgress{dest: dest, stop: make(chan struct{})}
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
				l.log("uploading")
			}
		}
	}()
	return l
}

func (l *logProgress) log(msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.phase == "" {
		return
	}
	secs := time.Since(l.start).Seconds()
	rate := float64(l.done) / max(secs, 0.001)
	eta := "?"
	if rate > 0 {
		eta = (time.Duration(float64(l.bytes-l.done)/rate) * time.Second).Round(time.Second).String()
	}
	slog.Info(msg, "dest", l.dest, "phase", l.phase, "files", fmt.Sprintf("%d/%d", l.n, l.files),
		"bytes", fmt.Sprintf("%s/%s", bytesize.Format(l.done), bytesize.Format(l.bytes)),
		"rate", bytesize.Format(int64(rate))+"/s", "eta", eta)
}

func (l *logProgress) PhaseStart(name string, files int, bytes int64) {
	l.mu.Lock()
	l.phase, l.files, l.bytes, l.n, l.done, l.start = name, files, bytes, 0, 0, time.Now()
	l.mu.Unlock()
	l.log("phase started")
}

func (l *logProgress) Uploaded(f mirror.File) {
	l.mu.Lock()
	l.n++
	l.done += f.Size
	l.mu.Unlock()
}

func (l *logProgress) PhaseDone(string) {
	l.log("phase published")
	l.mu.Lock()
	l.phase = ""
	l.mu.Unlock()
}

func (l *logProgress) Close() { l.stopOnce.Do(func() { close(l.stop) }) }
