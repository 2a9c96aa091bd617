// Package ddbitem is the form a DynamoDB item takes in wharf's store, as the
// service writes it and as the JSON codec reads it: a Query or GetItem
// answer goes from the store to the wire in this form, without becoming a
// map of AttributeValues in between (a five-attribute item is a 1.5 KB map
// before any of its strings; Query answers hundreds of them).
//
// An item is a uvarint count of attributes, then each attribute's name (a
// uvarint length and its bytes, names in ascending byte order, each once)
// and value: a tag byte, then for S, N and B a length-prefixed string, for
// SS, NS and BS a count of length-prefixed strings, for M a map as the item
// is, for L a count of values, for NULL nothing, for BOOL one byte (1 is
// true). The service's encoder (internal/service/dynamodb) writes it.
package ddbitem

import (
	"encoding/binary"
	"errors"
)

// The tag byte of each type of value.
const (
	TagS byte = iota + 1
	TagN
	TagB
	TagSS
	TagNS
	TagBS
	TagM
	TagL
	TagNULL
	TagBOOL
)

// Raw is one item in its stored form.
type Raw []byte

// ErrCorrupt is what a Reader reports of bytes that are not an item.
var ErrCorrupt = errors.New("dynamodb: corrupt item encoding")

// Reader reads the stored form piece by piece. After the first error every
// read returns a zero value and Err reports it.
type Reader struct {
	b   []byte // what is left to read; nil after an error
	err error
}

// NewReader reads b.
func NewReader(b []byte) Reader { return Reader{b: b} }

// Err is the first error met, or nil.
func (r *Reader) Err() error { return r.err }

// Fail records ErrCorrupt: the caller found the bytes are not an item.
// Nothing more is read: every read after it finds no bytes.
func (r *Reader) Fail() {
	if r.err == nil {
		r.err = ErrCorrupt
	}
	r.b = nil
}

// Done reports whether every byte was read.
func (r *Reader) Done() bool { return len(r.b) == 0 }

// Rest is what is left to read.
func (r *Reader) Rest() []byte { return r.b }

// Count reads a uvarint count (of attributes, elements, or bytes). A count
// larger than the bytes left cannot be right, as every element takes one.
func (r *Reader) Count() int {
	if len(r.b) > 0 && r.b[0] < 0x80 && int(r.b[0]) <= len(r.b) {
		// One byte, the common case (names, short strings, small items).
		n := int(r.b[0])
		r.b = r.b[1:]
		return n
	}
	n, k := binary.Uvarint(r.b)
	if k <= 0 || n > uint64(len(r.b)) {
		r.Fail()
		return 0
	}
	r.b = r.b[k:]
	return int(n)
}

// Bytes reads a length-prefixed string; the result aliases the input.
func (r *Reader) Bytes() []byte {
	if len(r.b) > 0 && r.b[0] < 0x80 && int(r.b[0]) < len(r.b) {
		// A one-byte length, the common case.
		end := 1 + int(r.b[0])
		s := r.b[1:end:end]
		r.b = r.b[end:]
		return s
	}
	n := r.Count()
	if n > len(r.b) {
		r.Fail()
	}
	if r.err != nil {
		return nil
	}
	s := r.b[:n:n]
	r.b = r.b[n:]
	return s
}

// Byte reads one byte (a tag, a BOOL's value).
func (r *Reader) Byte() byte {
	if len(r.b) == 0 {
		r.Fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// SkipValue reads past one value, tag included.
func (r *Reader) SkipValue() {
	switch r.Byte() {
	case TagS, TagN, TagB:
		r.Bytes()
	case TagSS, TagNS, TagBS:
		n := r.Count()
		for i := 0; i < n && r.err == nil; i++ {
			r.Bytes()
		}
	case TagM:
		n := r.Count()
		for i := 0; i < n && r.err == nil; i++ {
			r.Bytes()
			r.SkipValue()
		}
	case TagL:
		n := r.Count()
		for i := 0; i < n && r.err == nil; i++ {
			r.SkipValue()
		}
	case TagNULL:
	case TagBOOL:
		r.Byte()
	default:
		r.Fail()
	}
}
