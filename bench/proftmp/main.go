package main

import (
	"context"
	"flag"
	"log/slog"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/projectatomic/atomic-site/internal/builder"
	"github.com/projectatomic/atomic-site/internal/history"
	"github.com/projectatomic/atomic-site/internal/testkit/synth"
	"github.com/projectatomic/atomic-site/internal/trust"
)

func main() {
	dir := flag.String("dir", "", "")
	mode := flag.String("mode", "build", "")
	flag.Parse()
	slog.SetLogLoggerLevel(slog.LevelDebug)
	root, _ := filepath.Abs(".")
	opts := builder.Options{ProjectDir: root, History: history.Options{
		Manifests: filepath.Join(*dir, "manifests"), Keys: os.Getenv("KEYS"),
		Config: filepath.Join(root, "site", "sitegen.toml"), Now: time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC),
	}}
	go func() {
		var m runtime.MemStats
		for {
			time.Sleep(50 * time.Millisecond)
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > 1500<<20 {
				runtime.GC()
				f, _ := os.Create("/tmp/heappeak.prof")
				pprof.WriteHeapProfile(f)
				f.Close()
				fmt.Println("peak profile written")
				return
			}
		}
	}()
	cpu, _ := os.Create("/tmp/cpu.prof")
	pprof.StartCPUProfile(cpu)
	start := time.Now()
	out := "/tmp/proftmp-out"
	os.RemoveAll(out)
	if *mode == "build" {
		if _, err := builder.Build(context.Background(), opts, out); err != nil {
			panic(err)
		}
	} else {
		b, _ := builder.New(opts, out, true)
		if _, err := b.Rebuild(context.Background(), nil); err != nil {
			panic(err)
		}
		fmt.Println("first", time.Since(start))
		pprof.StopCPUProfile()
		cpu, _ = os.Create("/tmp/cpu.prof")
		pprof.StartCPUProfile(cpu)
		start = time.Now()
		signer, err := trust.LoadSigner("/tmp/sb/bench.key")
		if err != nil {
			panic(err)
		}
		now := time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)
		for i := 0; i < 5; i++ {
			if i > 0 {
				day := now.Add(-time.Duration(5-i) * time.Minute)
				nb := synth.Build("stable", fmt.Sprintf("28.%s.%d", day.Format("20060102"), 190+i+int(time.Now().Unix()%1000)*10), day, "x86_64", "aarch64", "ppc64le")
				if err := synth.WriteBuild(opts.History.Manifests, signer, nb); err != nil {
					panic(err)
				}
			}
			t := time.Now()
			res, err := b.Rebuild(context.Background(), nil)
			if err != nil {
				panic(err)
			}
			fmt.Println("rebuild", time.Since(t), res.Rendered)
		}
	}
	pprof.StopCPUProfile()
	fmt.Println("took", time.Since(start))
	runtime.GC()
	h, _ := os.Create("/tmp/heap.prof")
	pprof.WriteHeapProfile(h)
}
