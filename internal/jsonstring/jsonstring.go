// Package jsonstring writes Go strings as JSON string literals, byte for byte
// as encoding/json writes them with HTML escaping off, for the encoders that
// build JSON by hand on hot paths (the JSON protocols, EventBridge's event
// envelope, the timeline).
package jsonstring

import "unicode/utf8"

// Append appends s to dst as a JSON string, in quotes, and returns the
// extended slice. Its bytes are those of json.Encoder with SetEscapeHTML(false):
// '"' and '\\' escaped with a backslash; \b, \f, \n, \r and \t by name; other
// control characters as \u00XX; U+2028 and U+2029 as \u2028 and \u2029 (valid
// JSON, but line ends to JavaScript); each byte of invalid UTF-8 as \ufffd.
//
// '<', '>' and '&' are written as they are, not as \u003c, \u003e and \u0026
// as json.Marshal writes them: AWS writes them as they are in its JSON
// protocols' bodies and in the events EventBridge delivers (which targets
// may compare byte for byte), and that HTML escaping is for JSON embedded in
// an HTML page, which none of wharf's callers write.
//
// A string that needs no escaping (the common case: names, IDs, ARNs) is
// scanned eight bytes at a time and appended at once.
func Append(dst []byte, s string) []byte {
	i := safePrefix(s, 0)
	dst = append(dst, '"')
	if i == len(s) {
		dst = append(dst, s...)
		return append(dst, '"')
	}
	return appendEscaped(dst, s, i)
}

// appendEscaped appends s from its first byte needing attention, i, with
// s[:i] still to be written, and the closing quote.
func appendEscaped(dst []byte, s string, i int) []byte {
	const hex = "0123456789abcdef"
	start := 0 // s[start:i] is still to be written, needing no escape
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
		} else {
			r, size := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\ufffd`...)
				start = i + size
			case r == '\u2028' || r == '\u2029':
				dst = append(dst, s[start:i]...)
				dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
				start = i + size
			}
			i += size
		}
		i = safePrefix(s, i)
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// safePrefix returns the index of the first byte of s from i on that is not
// printable ASCII written as it is (a control character, '"', '\\' or a byte
// of a multi-byte sequence), or len(s).
func safePrefix(s string, i int) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	for ; i+8 <= len(s); i += 8 {
		t := s[i : i+8]
		w := uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
			uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
		// A byte's high bit is set below when it is 0x80 or more, less than
		// 0x20, '"' or '\\' (the bit tricks of "Bit Twiddling Hacks",
		// "Determine if a word has a byte less than n"): exact on whether
		// any byte is, which is all that is asked here.
		q, bs := w^('"'*ones), w^('\\'*ones)
		if (w|(w-0x20*ones)|((q-ones)&^q)|((bs-ones)&^bs))&highs != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			break
		}
	}
	return i
}
