// Command storemem shows what wharf's durable store costs in memory as it
// grows: it writes -items values of -size bytes into a store in a
// temporary directory (in commits of 1000), reopens it, reads every item in
// one scan, and prints the process's resident set split into anonymous
// memory (the Go heap, the store's overlay) and file pages (the store's
// memory-mapped bbolt file, and the binary), from /proc/self/status, after
// each step.
//
// The file pages are clean: a read-only shared mapping of the store's file,
// which the kernel can drop at any time and reads back on the next touch,
// so they are reclaimed under a container's memory limit before anything is
// killed. They still count in RSS, and in a cgroup's memory.current as page
// cache. It asserts nothing. From the module root:
// go run ./bench/storemem [-items 1000000] [-size 200]
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/store"
)

var (
	items = flag.Int("items", 1000000, "items to store")
	size  = flag.Int("size", 200, "bytes per value")
)

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "storemem:", err)
		os.Exit(1)
	}
}

// mem prints the resident set of this process, split as /proc reports it.
func mem(step string, t0 time.Time) {
	b, _ := os.ReadFile("/proc/self/status")
	v := map[string]float64{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, rest, ok := strings.Cut(l, ":"); ok {
			if f := strings.Fields(rest); len(f) == 2 && f[1] == "kB" {
				n, _ := strconv.ParseFloat(f[0], 64)
				v[k] = n / 1024
			}
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("| %s | %.1f s | %.0f | %.0f | %.0f | %.0f |\n", step, time.Since(t0).Seconds(), v["VmRSS"], v["RssAnon"], v["RssFile"], float64(ms.HeapInuse)/(1<<20))
}

func key(i int) []byte { return binary.BigEndian.AppendUint64([]byte("bench/"), uint64(i)) }

func run() error {
	dir, err := os.MkdirTemp("", "wharf-storemem")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	t0 := time.Now()
	fmt.Printf("%d items of %d bytes\n\n| step | time | RSS MiB | anonymous MiB | file MiB | Go heap in use MiB |\n|---|---|---|---|---|---|\n", *items, *size)
	mem("start", t0)
	st, err := store.Open(dir)
	if err != nil {
		return err
	}
	val := make([]byte, *size)
	for i := 0; i < *items; i += 1000 {
		if err := st.Update(func(tx store.Tx) error {
			for j := i; j < min(i+1000, *items); j++ {
				if err := tx.Put(key(j), val); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	mem("written", t0)
	if err := st.Close(); err != nil {
		return err
	}
	runtime.GC()
	mem("closed", t0)
	if st, err = store.Open(dir); err != nil {
		return err
	}
	defer st.Close()
	mem("reopened", t0)
	n := 0
	if err := st.View(func(tx store.Tx) error {
		return tx.Scan([]byte("bench/"), nil, func(k, v []byte) (bool, error) {
			n++
			return true, nil
		})
	}); err != nil {
		return err
	}
	if n != *items {
		return fmt.Errorf("scan read %d items, want %d", n, *items)
	}
	mem("read all", t0)
	fi, err := os.Stat(filepath.Join(dir, "wharf.db"))
	if err != nil {
		return err
	}
	fmt.Printf("\nstore file: %.0f MiB\n", float64(fi.Size())/(1<<20))
	return nil
}
