package store

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestQueueShapedWritesMatchASortedMap writes keys shaped as SQS queues'
// (each queue's messages ascending, then its count key, then its
// visibility index ascending, then the next queue's keys), many writes to
// one generation at a time as an Update makes, with deletes from the front
// and the middle, overwrites, large values kept outside the leaves,
// rollbacks and versions kept across later writes. It checks the tree
// against a sorted map, its shape every few generations, that a value read
// earlier in a generation stays as it was until the generation ends, and
// that each kept version still reads as it was.
func TestQueueShapedWritesMatchASortedMap(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 7))
			const queues = 4
			next := make([]int, queues)  // the next message of each queue
			first := make([]int, queues) // the oldest not deleted yet
			val := func(i int) []byte {
				if r.IntN(8) == 0 {
					return bytes.Repeat([]byte{byte('a' + i%26)}, inlineMax+r.IntN(64))
				}
				return fmt.Appendf(nil, "v%d-%d", i, r.IntN(1000))
			}
			var root *node
			m := &model{vals: map[string]string{}}
			type version struct {
				root *node
				m    *model
			}
			var kept []version
			gen := uint64(0)
			for range 400 {
				gen++
				tr, tm := root, m.clone()
				tnext, tfirst := append([]int(nil), next...), append([]int(nil), first...)
				type held struct{ got, want []byte }
				var reads []held
				put := func(k string, v []byte) {
					tr = insert(tr, gen, []byte(k), v)
					tm.put(k, string(v))
				}
				del := func(k string) {
					tr = remove(tr, gen, []byte(k))
					tm.del(k)
				}
				for range 1 + r.IntN(80) {
					q := r.IntN(queues)
					msg := func(i int) string { return fmt.Sprintf("q%d/m/%08d", q, i) }
					vis := func(i int) string { return fmt.Sprintf("q%d/v/%08d", q, i) }
					switch op := r.IntN(10); {
					case op < 6: // send
						i := tnext[q]
						tnext[q]++
						put(msg(i), val(i))
						put(vis(i), []byte("0"))
						put(fmt.Sprintf("q%d/n", q), fmt.Appendf(nil, "%d", tnext[q]-tfirst[q]))
					case op < 8: // delete the oldest, as receive+delete does
						if tfirst[q] < tnext[q] {
							del(msg(tfirst[q]))
							del(vis(tfirst[q]))
							tfirst[q]++
						}
					case op < 9: // delete or overwrite one in the middle
						if tfirst[q] < tnext[q] {
							i := tfirst[q] + r.IntN(tnext[q]-tfirst[q])
							if r.IntN(2) == 0 {
								del(msg(i))
								del(vis(i))
							} else {
								put(vis(i), val(i))
							}
						}
					default: // read, and hold what was read
						if tfirst[q] < tnext[q] {
							k := msg(tfirst[q] + r.IntN(tnext[q]-tfirst[q]))
							if v, ok := lookup(tr, []byte(k)); ok {
								reads = append(reads, held{v, bytes.Clone(v)})
							}
						}
					}
				}
				for _, h := range reads {
					if !bytes.Equal(h.got, h.want) {
						t.Fatalf("gen %d: a value read in the generation changed: %q, was %q", gen, h.got, h.want)
					}
				}
				if gen%4 == 0 {
					checkTree(t, tr)
				}
				if r.IntN(6) == 0 {
					continue // rolled back
				}
				root, m, next, first = tr, tm, tnext, tfirst
				if r.IntN(10) == 0 && len(kept) < 12 {
					kept = append(kept, version{root, m.clone()})
				}
				if gen%25 == 0 {
					compareScan(t, fmt.Sprintf("gen %d", gen), root, m)
					for i, v := range kept {
						checkTree(t, v.root)
						compareScan(t, fmt.Sprintf("gen %d, version %d", gen, i), v.root, v.m)
					}
				}
			}
			compareScan(t, "at the end", root, m)
			for i, v := range kept {
				compareScan(t, fmt.Sprintf("at the end, version %d", i), v.root, v.m)
			}
		})
	}
}
