// Command storebench compares the embedded key-value engines wharf could use
// for internal/store: go.etcd.io/bbolt and github.com/cockroachdb/pebble (v1
// and v2). It lives in its own module so that only the chosen engine is a
// dependency of wharf itself. Each run measures one engine in a fresh
// process, so RSS numbers do not mix; see run.sh and
// docs/decisions/0001-store-engine.md.
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// engine is the least an engine must offer to be measured.
type engine interface {
	// put writes one key durably (fsync'd before it returns).
	put(k, v []byte) error
	// load writes many keys in one (durable) transaction.
	load(kvs [][2][]byte) error
	get(k []byte) ([]byte, error)
	// scan visits up to n keys with the prefix in order.
	scan(prefix []byte, n int) (int, error)
	close() error
}

type opener func(dir string) (engine, error)

// engines holds the engines compiled in. Each engine's file has a build tag
// (bolt, pebble, pebble2), so each binary carries one engine only and its
// size and RSS are that engine's; a binary built with no tag measures the
// baseline.
var engines = map[string]opener{}

func main() {
	name := flag.String("engine", "bolt", "engine: bolt, bolt-batch, bolt-group, pebble, pebble2")
	dur := flag.Duration("d", 2*time.Second, "duration of each throughput phase")
	nkeys := flag.Int("n", 20000, "keys loaded before the read phases")
	dir := flag.String("dir", "", "directory for the store (default: a temporary one)")
	flag.Parse()
	open, ok := engines[*name]
	if !ok {
		fmt.Printf("%-12s %-28s %s\n", "none", "rss idle", rss())
		log.Fatalf("engine %q not compiled in (build tags: bolt, pebble, pebble2)", *name)
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "storebench")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	path := filepath.Join(*dir, *name)
	report := func(metric, value string) { fmt.Printf("%-12s %-28s %s\n", *name, metric, value) }

	t0 := time.Now()
	e, err := open(path)
	must(err)
	report("open (new)", time.Since(t0).String())
	report("rss after open", rss())

	val := bytes.Repeat([]byte("v"), 200)
	// Durable single put latency: one writer, one key per transaction.
	var lat []time.Duration
	for i := 0; i < 200; i++ {
		t := time.Now()
		must(e.put(key("lat", i), val))
		lat = append(lat, time.Since(t))
	}
	slices.Sort(lat)
	report("put latency p50 / p99", fmt.Sprintf("%v / %v", lat[len(lat)/2], lat[len(lat)*99/100]))

	for _, writers := range []int{1, 16} {
		n := throughput(e, writers, *dur, val)
		report(fmt.Sprintf("durable puts/s, %2d writers", writers), fmt.Sprintf("%.0f", n))
	}

	// Load keys for the read phases: 20 prefixes of n/20 keys.
	var kvs [][2][]byte
	for i := 0; i < *nkeys; i++ {
		kvs = append(kvs, [2][]byte{key(fmt.Sprintf("p%02d", i%20), i), val})
	}
	t0 = time.Now()
	must(e.load(kvs))
	report("load keys", fmt.Sprintf("%d in %v", *nkeys, time.Since(t0)))
	must(e.close())

	// Open time of an existing store, and the first read after it.
	t0 = time.Now()
	e, err = open(path)
	must(err)
	opened := time.Since(t0)
	_, err = e.get(key("p00", 0))
	must(err)
	report("open (existing)", fmt.Sprintf("%v (first get after %v)", opened, time.Since(t0)))

	const gets = 200000
	t0 = time.Now()
	for i := 0; i < gets; i++ {
		j := (i * 7919) % *nkeys
		v, err := e.get(key(fmt.Sprintf("p%02d", j%20), j))
		must(err)
		if len(v) != len(val) {
			log.Fatalf("get %d: %d bytes", j, len(v))
		}
	}
	report("point get", (time.Since(t0) / gets).String())

	const scans = 2000
	t0 = time.Now()
	for i := 0; i < scans; i++ {
		n, err := e.scan([]byte(fmt.Sprintf("p%02d/", i%20)), 1000)
		must(err)
		if n != 1000 {
			log.Fatalf("scan: %d keys", n)
		}
	}
	report("prefix scan of 1000 keys", (time.Since(t0) / scans).String())
	runtime.GC()
	report("rss after reads", rss())
	must(e.close())
}

// throughput runs writers goroutines putting distinct keys durably for d and
// returns the puts per second.
func throughput(e engine, writers int, d time.Duration, val []byte) float64 {
	var n atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	start := time.Now()
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				must(e.put(key(fmt.Sprintf("w%02d-%d", w, writers), i), val))
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}

func key(prefix string, i int) []byte {
	k := append([]byte(prefix), '/')
	return binary.BigEndian.AppendUint64(k, uint64(i))
}

// rss reports the resident set size and its peak, from /proc (Linux only).
func rss() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	// RssAnon is the process's own memory; RssFile is mostly bbolt's mmap
	// of the data file, page cache the kernel can drop.
	f := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if kv := strings.Fields(line); len(kv) >= 2 {
			f[strings.TrimSuffix(kv[0], ":")] = kv[1]
		}
	}
	return fmt.Sprintf("%s kB (anon %s, file %s, peak %s)", f["VmRSS"], f["RssAnon"], f["RssFile"], f["VmHWM"])
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// prefixEnd is the smallest key greater than every key with the prefix.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

func hasPrefix(k, p []byte) bool { return len(k) >= len(p) && string(k[:len(p)]) == string(p) }
