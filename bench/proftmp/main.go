package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/projectatomic/atomic-site/internal/builder"
	"github.com/projectatomic/atomic-site/internal/history"
)

func main() {
	dir := flag.String("dir", "", "")
	mode := flag.String("mode", "build", "")
	flag.Parse()
	root, _ := filepath.Abs(".")
	opts := builder.Options{ProjectDir: root, History: history.Options{
		Manifests: filepath.Join(*dir, "manifests"), Keys: "/tmp/sb/keys",
		Config: filepath.Join(root, "site", "sitegen.toml"), Now: time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC),
	}}
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
		for i := 0; i < 3; i++ {
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
