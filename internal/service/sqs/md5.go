package sqs

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"sort"
)

// msgAttr is a message attribute (or message system attribute) value.
type msgAttr struct {
	DataType    string
	StringValue *string  `json:",omitempty"`
	BinaryValue []byte   `json:",omitempty"`
	StringList  []string `json:",omitempty"`
	BinaryList  [][]byte `json:",omitempty"`
}

// Transport types of the attribute digest, from "Calculating the MD5 message
// digest for message attributes" in the Amazon SQS Developer Guide; the list
// types are the ones the SDKs use for the (reserved) list values.
const (
	transportString     = 1
	transportBinary     = 2
	transportStringList = 3
	transportBinaryList = 4
)

func md5Hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

// md5Hexes returns the hex digests of the bodies of msgs' n non-nil
// messages, in order, 32 bytes each, in one string.
func md5Hexes(msgs []*message, n int) string {
	var buf [32 * 10]byte // a batch's ten digests, on the stack: the result is a copy
	h := buf[:0]
	if 32*n > len(buf) {
		h = make([]byte, 0, 32*n)
	}
	for _, m := range msgs {
		if m != nil {
			sum := md5.Sum([]byte(m.Body))
			h = hex.AppendEncode(h, sum[:])
		}
	}
	return string(h)
}

// md5OfAttributes is the digest clients verify: attributes sorted by name, each
// encoded as length-prefixed name, data type, a transport byte and the
// length-prefixed value. It returns "" when there are no attributes, since
// SQS then omits the digest.
func md5OfAttributes(attrs map[string]msgAttr) string {
	if len(attrs) == 0 {
		return ""
	}
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf []byte
	lv := func(b []byte) {
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(b)))
		buf = append(buf, b...)
	}
	for _, n := range names {
		a := attrs[n]
		lv([]byte(n))
		lv([]byte(a.DataType))
		switch {
		case a.StringValue != nil:
			buf = append(buf, transportString)
			lv([]byte(*a.StringValue))
		case a.BinaryValue != nil:
			buf = append(buf, transportBinary)
			lv(a.BinaryValue)
		case a.StringList != nil:
			buf = append(buf, transportStringList)
			for _, s := range a.StringList {
				lv([]byte(s))
			}
		case a.BinaryList != nil:
			buf = append(buf, transportBinaryList)
			for _, b := range a.BinaryList {
				lv(b)
			}
		}
	}
	return md5Hex(buf)
}
