package timeline

import "slices"

// chunkLen is how many entries a chunk of entries holds.
const chunkLen = 256

// entries are a Log's kept entries, oldest first, in chunks of chunkLen
// that are written once: an entry is appended past the end of the last
// chunk and never changed after, and a trim drops whole chunks (and skips
// the oldest of the first). So a reader that took a view under the Log's
// lock reads the entries without it, while Record goes on: a List that
// filters ten thousand entries, or a Trace, does not hold up every SQS
// update, which records inside the store's commit.
//
// A chunk dropped while no view is out is kept to be filled again: a new
// chunk for every chunkLen entries was 190 more bytes allocated and 190 ns
// more for each Record.
type entries struct {
	chunks [][]Entry // every chunk but the last is full
	off    int       // entries of chunks[0] trimmed
	n      int       // entries kept
	spare  []Entry   // a dropped chunk no view can hold, emptied; or nil
}

func (s *entries) add(e Entry) {
	if k := len(s.chunks); k == 0 || len(s.chunks[k-1]) == chunkLen {
		c := s.spare
		if c == nil {
			c = make([]Entry, 0, chunkLen)
		}
		s.spare = nil
		s.chunks = append(s.chunks, c)
	}
	last := &s.chunks[len(s.chunks)-1]
	*last = append(*last, e)
	s.n++
}

// trim keeps the newest keep entries. reuse: no view is out, so a chunk
// dropped may be filled again.
func (s *entries) trim(keep int, reuse bool) {
	if s.n <= keep {
		return
	}
	s.off += s.n - keep
	s.n = keep
	if k := s.off / chunkLen; k > 0 {
		if reuse {
			c := s.chunks[0]
			clear(c[:cap(c)]) // the strings of its entries
			s.spare = c[:0]
		}
		// In place: a view has its own copy of the list.
		s.chunks = slices.Delete(s.chunks, 0, k)
		s.off -= k * chunkLen
	}
}

// view returns entries a reader may read without the Log's lock: the
// chunks' slice headers are copied, and the entries they cover are never
// written again.
func (s *entries) view() entries {
	return entries{chunks: slices.Clone(s.chunks), off: s.off, n: s.n}
}

// at returns the i-th entry kept, oldest first.
func (s *entries) at(i int) *Entry {
	i += s.off
	return &s.chunks[i/chunkLen][i%chunkLen]
}

// all returns the entries kept in one slice, oldest first.
func (s *entries) all() []Entry {
	out := make([]Entry, s.n)
	for i := range out {
		out[i] = *s.at(i)
	}
	return out
}
