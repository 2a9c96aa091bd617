package store

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// benchKey is a key under one of 20 prefixes, like a service's per-queue keys.
func benchKey(i int) []byte {
	k := fmt.Appendf(nil, "bench/p%02d/", i%20)
	return binary.BigEndian.AppendUint64(k, uint64(i))
}

var benchValue = make([]byte, 200)

func forEachBench(b *testing.B, bench func(b *testing.B, s Store)) {
	for _, im := range impls() {
		b.Run(im.name, func(b *testing.B) { bench(b, im.open(b)) })
	}
}

// BenchmarkPut is the latency of one durable single-key Update.
func BenchmarkPut(b *testing.B) {
	forEachBench(b, func(b *testing.B, s Store) {
		for i := 0; b.Loop(); i++ {
			if err := s.Update(func(tx Tx) error { return tx.Put(benchKey(i), benchValue) }); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPutParallel is durable single-key Updates from 8 and from 16
// goroutines: the group commit's throughput.
func BenchmarkPutParallel(b *testing.B) {
	for _, writers := range []int{8, 16} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			forEachBench(b, func(b *testing.B, s Store) {
				var n, writes atomic.Int64
				logWriteHook = func() { writes.Add(1) }
				defer func() { logWriteHook = func() {} }()
				b.ReportAllocs()
				cpu := processCPU()
				// RunParallel starts parallelism × GOMAXPROCS goroutines.
				b.SetParallelism(max(1, writers/runtime.GOMAXPROCS(0)))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := int(n.Add(1))
						if err := s.Update(func(tx Tx) error { return tx.Put(benchKey(i), benchValue) }); err != nil {
							b.Error(err)
							return
						}
					}
				})
				// Log writes (each one pwrite and one fdatasync) per Update:
				// what group commit saves.
				b.ReportMetric(float64(writes.Load())/float64(b.N), "syncs/op")
				// The process's CPU (user and system, every goroutine and
				// the kernel's work for them) per Update: what issue 20
				// measures, where ns/op is mostly waiting for the disk.
				b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
			})
		})
	}
}

// processCPU is the CPU time the process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func loadBench(b *testing.B, s Store, n int) {
	b.Helper()
	err := s.Update(func(tx Tx) error {
		for i := 0; i < n; i++ {
			if err := tx.Put(benchKey(i), benchValue); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkGet is one point read in its own View, over 20,000 keys.
func BenchmarkGet(b *testing.B) {
	forEachBench(b, func(b *testing.B, s Store) {
		const n = 20000
		loadBench(b, s, n)
		for i := 0; b.Loop(); i++ {
			s.View(func(tx Tx) error {
				v, err := tx.Get(benchKey(i * 7919 % n))
				if v == nil {
					b.Fatal("missing key", err)
				}
				return err
			})
		}
	})
}

// BenchmarkScan1000 is a prefix scan visiting 1000 keys.
func BenchmarkScan1000(b *testing.B) {
	forEachBench(b, func(b *testing.B, s Store) {
		loadBench(b, s, 20000)
		for i := 0; b.Loop(); i++ {
			count := 0
			s.View(func(tx Tx) error {
				return tx.Scan(fmt.Appendf(nil, "bench/p%02d/", i%20), nil, func(k, v []byte) (bool, error) {
					count++
					return true, nil
				})
			})
			if count != 1000 {
				b.Fatalf("scan visited %d keys", count)
			}
		}
	})
}

// BenchmarkOpen is opening an existing store of 20,000 keys and reading one.
func BenchmarkOpen(b *testing.B) {
	dir := b.TempDir()
	s, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	loadBench(b, s, 20000)
	s.Close()
	for b.Loop() {
		s, err := Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		s.View(func(tx Tx) error { _, err := tx.Get(benchKey(0)); return err })
		s.Close()
	}
}

// BenchmarkLargeStore is single-key Updates to an in-memory store that
// already holds 500,000 keys, as a long queue does: appending a key
// ("append"), and appending one while deleting the oldest ("queue"). The
// store is then most of the live heap, which the garbage collector marks on
// every cycle; gc-ns/op is the collector's CPU per Update, and objects/key
// and heap-B/key the heap objects and live heap bytes per stored key after
// loading (a key and its value are 218 bytes).
func BenchmarkLargeStore(b *testing.B) {
	const n = 500000
	for _, queue := range []bool{false, true} {
		name := "append"
		if queue {
			name = "queue"
		}
		b.Run(name, func(b *testing.B) {
			s := OpenMemory()
			defer s.Close()
			for i := 0; i < n; i += 1000 {
				if err := s.Update(func(tx Tx) error {
					for j := i; j < i+1000; j++ {
						if err := tx.Put(benchKey(j), benchValue); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
			runtime.GC()
			sample := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/gc/heap/objects:objects"}, {Name: "/gc/heap/live:bytes"}}
			metrics.Read(sample)
			gc, objects, live := sample[0].Value.Float64(), sample[1].Value.Uint64(), sample[2].Value.Uint64()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if err := s.Update(func(tx Tx) error {
					if queue {
						if err := tx.Delete(benchKey(i)); err != nil {
							return err
						}
					}
					return tx.Put(benchKey(n+i), benchValue)
				}); err != nil {
					b.Fatal(err)
				}
			}
			metrics.Read(sample)
			b.ReportMetric((sample[0].Value.Float64()-gc)*1e9/float64(b.N), "gc-ns/op")
			b.ReportMetric(float64(objects)/n, "objects/key")
			b.ReportMetric(float64(live)/n, "heap-B/key")
		})
	}
}

// BenchmarkPutBatch is Updates of ten puts each to an in-memory store: ten
// ascending keys of one queue, as an SQS SendMessageBatch writes
// ("ascending"), the same before a key that sorts after them, as an SQS
// queue's count key follows its messages ("ascending-before-more"), or ten
// random keys, as DynamoDB writes do ("random"). heap-B/key is the live
// heap per key stored at the end (a key and its value are 218 bytes): what
// room left unused in nodes costs. Compare runs with the same
// -benchtime=Nx, since it depends on the store's size.
func BenchmarkPutBatch(b *testing.B) {
	for _, bench := range []struct {
		name           string
		random, before bool
	}{{"ascending", false, false}, {"ascending-before-more", false, true}, {"random", true, false}} {
		random := bench.random
		b.Run(bench.name, func(b *testing.B) {
			s := OpenMemory()
			defer s.Close()
			if bench.before {
				if err := s.Update(func(tx Tx) error { return tx.Put([]byte("bench/p00/~"), benchValue) }); err != nil {
					b.Fatal(err)
				}
			}
			r := rand.New(rand.NewPCG(1, 2))
			sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
			runtime.GC()
			metrics.Read(sample)
			before := sample[0].Value.Uint64()
			b.ReportAllocs()
			keys := 0
			for b.Loop() {
				if err := s.Update(func(tx Tx) error {
					for range 10 {
						i := keys * 20 // one prefix: one queue
						if random {
							i = int(r.Uint32())
						}
						keys++
						if err := tx.Put(benchKey(i), benchValue); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			runtime.GC()
			metrics.Read(sample)
			b.ReportMetric(float64(int64(sample[0].Value.Uint64())-int64(before))/float64(keys), "heap-B/key")
		})
	}
}

// BenchmarkGetsFromBbolt is ten point reads in one View, half of them of
// absent keys, with every key in the bbolt file (none in the overlay): what
// a durable SQS receive or delete does for its queue and its tombstones.
func BenchmarkGetsFromBbolt(b *testing.B) {
	s := openDisk(b)
	const n = 20000
	loadBench(b, s, n)
	s = reopenDisk(b, s)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.View(func(tx Tx) error {
			for j := range 10 {
				k := benchKey((i*10 + j) * 7919 % (2 * n))
				if v, _ := tx.Get(k); (v != nil) != (int(binary.BigEndian.Uint64(k[len(k)-8:])) < n) {
					b.Fatalf("Get(%q) = %d bytes", k, len(v))
				}
			}
			return nil
		})
	}
}

// BenchmarkHotGetsFromBbolt is a View reading the same two keys of the
// bbolt file, as every durable request reads its queue's or its table's
// record, and the key of one message that is not there.
func BenchmarkHotGetsFromBbolt(b *testing.B) {
	s := openDisk(b)
	const n = 20000
	loadBench(b, s, n)
	s = reopenDisk(b, s)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.View(func(tx Tx) error {
			for _, k := range [][]byte{benchKey(7), benchKey(n / 2), benchKey(n + i)} {
				if v, _ := tx.Get(k); (v != nil) != (binary.BigEndian.Uint64(k[len(k)-8:]) < n) {
					b.Fatalf("Get(%q) = %d bytes", k, len(v))
				}
			}
			return nil
		})
	}
}

// BenchmarkCheckpoint is the copy of a frozen overlay of 2,000 puts into
// the bbolt file, in one synced transaction as a checkpoint makes it, over
// a file that already holds 20,000 keys under 20 prefixes: each prefix's
// keys continue ascending ("ascending", as a queue's messages do), or are
// random ("random", as DynamoDB items are). ns/op is per checkpoint,
// cpu-ns/key the process's CPU per key copied; pages/key is the file's growth in pages per key it gained.
func BenchmarkCheckpoint(b *testing.B) {
	const preload, batch = 20000, 2000
	for _, random := range []bool{false, true} {
		name := "ascending"
		if random {
			name = "random"
		}
		b.Run(name, func(b *testing.B) {
			db, err := bolt.Open(filepath.Join(b.TempDir(), fileName), 0o600, &bolt.Options{FreelistType: bolt.FreelistMapType, InitialMmapSize: 1 << 30})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			r := rand.New(rand.NewPCG(1, 2))
			next := 0
			overlay := func(n int) *node {
				var root *node
				for range n {
					i := next
					if random {
						i = int(r.Uint32())
					}
					next++
					root = insert(root, 1, benchKey(i), benchValue)
				}
				return root
			}
			apply := func(root *node) {
				if err := db.Update(func(btx *bolt.Tx) error {
					bk, err := btx.CreateBucketIfNotExists(bucket)
					if err != nil {
						return err
					}
					return applyOverlay(bk, root)
				}); err != nil {
					b.Fatal(err)
				}
			}
			apply(overlay(preload))
			pages := func() int {
				var n int
				db.View(func(btx *bolt.Tx) error { n = int(btx.Size()) / db.Info().PageSize; return nil })
				return n
			}
			before, keys := pages(), 0
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				root := overlay(batch)
				b.StartTimer()
				start := processCPU()
				apply(root)
				cpu += processCPU() - start
				keys += batch
			}
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(keys), "cpu-ns/key")
			b.ReportMetric(float64(pages()-before)/float64(keys), "pages/key")
		})
	}
}
