package dynamodb

import (
	"bytes"
	"unsafe"

	"github.com/wharf-dev/wharf/internal/ddbitem"
)

// Query, Scan and GetItem read items in their stored form (encodeItem) and
// decode only what they look at: the sort key, the TTL attribute, a hash key
// for a parallel scan. An item answered whole goes to the codec as it is
// stored (ddbitem.Raw); a filter or a projection decodes it.

// storedSize is itemSize of the item raw encodes, read from its bytes, and
// whether raw is exactly what encodeItem writes for it (names in order,
// nothing after the item), which is what the JSON codec takes; the size of
// an item that is not (a name twice) is not its decoded map's. An error
// means raw is not an item: decodeItem fails on the same bytes.
func storedSize(raw []byte) (size int, canonical bool, err error) {
	r := ddbitem.NewReader(raw)
	size, canonical = storedMapSize(&r, false)
	return size, canonical && r.Done(), r.Err()
}

// storedMapSize sizes a map: with inner, as a value (3 bytes plus 1 per
// element, valueSize's M), else as an item.
func storedMapSize(r *ddbitem.Reader, inner bool) (int, bool) {
	n := r.Count()
	size, sorted := 0, true
	if inner {
		size = 3 + n
	}
	var prev []byte
	for i := 0; i < n && r.Err() == nil; i++ {
		k := r.Bytes()
		if i > 0 && bytes.Compare(prev, k) >= 0 {
			sorted = false
		}
		prev = k
		vs, vsorted := storedValueSize(r)
		size += len(k) + vs
		sorted = sorted && vsorted
	}
	return size, sorted
}

func storedValueSize(r *ddbitem.Reader) (int, bool) {
	switch r.Byte() {
	case tagS, tagB:
		return len(r.Bytes()), true
	case tagN:
		return numberSize(bytesString(r.Bytes())), true
	case tagSS, tagBS:
		n, size := r.Count(), 0
		for i := 0; i < n && r.Err() == nil; i++ {
			size += len(r.Bytes())
		}
		return size, true
	case tagNS:
		n, size := r.Count(), 0
		for i := 0; i < n && r.Err() == nil; i++ {
			size += numberSize(bytesString(r.Bytes()))
		}
		return size, true
	case tagM:
		return storedMapSize(r, true)
	case tagL:
		n := r.Count()
		size, sorted := 3+n, true
		for i := 0; i < n && r.Err() == nil; i++ {
			vs, vsorted := storedValueSize(r)
			size += vs
			sorted = sorted && vsorted
		}
		return size, sorted
	case tagNULL:
		return 1, true
	case tagBOOL:
		return 1, r.Byte() <= 1 // decodeItem reads any other byte as false, encodeItem writes 0

	}
	r.Fail()
	return 0, true
}

// bytesString is p as a string without a copy, for reads that keep nothing
// of it (numberSize).
func bytesString(p []byte) string { return unsafe.String(unsafe.SliceData(p), len(p)) }

// storedAttr decodes the top-level attribute name of the stored item raw,
// which storedSize has checked.
func storedAttr(raw []byte, name string) (Value, bool, error) {
	r := ddbitem.NewReader(raw)
	n := r.Count()
	for i := 0; i < n && r.Err() == nil; i++ {
		k := r.Bytes()
		if bytesString(k) != name {
			r.SkipValue()
			continue
		}
		// The value's bytes, decoded by decodeItem's reader.
		vr := &reader{b: r.Rest()}
		v := vr.readValue()
		return v, vr.err == nil, vr.err
	}
	return Value{}, false, r.Err()
}

// storedItems collects the items a read answers in their stored form, copied
// out of the store (whose bytes last only as long as the transaction) into
// one buffer.
type storedItems struct {
	buf  []byte
	ends []int
}

func (s *storedItems) add(raw []byte) {
	if s.buf == nil {
		// Room for a few dozen small items at once: growing from nothing
		// was 5% of a 40-item Query's CPU.
		s.buf, s.ends = make([]byte, 0, max(4096, 2*len(raw))), make([]int, 0, 32)
	}
	s.buf = append(s.buf, raw...)
	s.ends = append(s.ends, len(s.buf))
}

// raws returns the items, each a slice of the one buffer.
func (s *storedItems) raws() []ddbitem.Raw {
	out := make([]ddbitem.Raw, len(s.ends))
	start := 0
	for i, end := range s.ends {
		out[i] = ddbitem.Raw(s.buf[start:end:end])
		start = end
	}
	return out
}

// decoded returns the items decoded, for callers in process.
func (s *storedItems) decoded() ([]Item, error) {
	out := make([]Item, len(s.ends))
	start := 0
	for i, end := range s.ends {
		item, err := decodeItem(s.buf[start:end])
		if err != nil {
			return nil, err
		}
		out[i] = item
		start = end
	}
	return out, nil
}
