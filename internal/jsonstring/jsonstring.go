// Package jsonstring writes Go strings as JSON string literals, byte for byte
// as encoding/json writes them, for the encoders that build JSON by hand on
// hot paths (the JSON protocols, EventBridge's event envelope, the timeline,
// the health answer).
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
// may compare byte for byte), and that escaping is for JSON embedded in an
// HTML page, which none of AWS's APIs are.
//
// A string that needs no escaping (the common case: names, IDs, ARNs) is
// scanned eight bytes at a time and appended at once.
func Append(dst []byte, s string) []byte { return appendString(dst, s, false) }

// AppendHTMLSafe is Append with '<', '>' and '&' escaped as \u003c, \u003e
// and \u0026: json.Marshal's bytes, and an Encoder's by default, for
// answers of wharf's own that promise encoding/json's bytes.
func AppendHTMLSafe(dst []byte, s string) []byte { return appendString(dst, s, true) }

func appendString(dst []byte, s string, html bool) []byte {
	i := safePrefix(s, html)
	dst = append(dst, '"')
	if i == len(s) {
		dst = append(dst, s...)
		return append(dst, '"')
	}
	if html {
		return appendEscaped(dst, s, i, &htmlSafe)
	}
	return appendEscaped(dst, s, i, &safe)
}

// safe and htmlSafe hold true for the bytes written as they are: printable
// ASCII but '"' and '\\', and, in htmlSafe, but '<', '>' and '&'. A byte of
// a multi-byte sequence is not, so that its rune is looked at.
var safe, htmlSafe = func() (s, h [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		s[c] = c != '"' && c != '\\'
		h[c] = s[c] && c != '<' && c != '>' && c != '&'
	}
	return s, h
}()

// appendEscaped appends s from its first byte needing attention, i, with
// s[:i] still to be written, and the closing quote; set is safe or
// htmlSafe. It goes a byte at a
// time: text that needs escaping (a JSON document in a string) usually
// needs it every few bytes.
func appendEscaped(dst []byte, s string, i int, set *[256]bool) []byte {
	const hex = "0123456789abcdef"
	start := 0 // s[start:i] is still to be written, needing no escape
	for i < len(s) {
		c := s[i]
		if set[c] {
			i++
			continue
		}
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
			default: // another control character, or '<', '>' or '&' when html
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
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// safePrefix returns the index of the first byte of s that is not written
// as it is (see safe and htmlSafe), or len(s).
func safePrefix(s string, html bool) int {
	i := 0
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	for ; i+8 <= len(s); i += 8 {
		t := s[i : i+8]
		w := uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
			uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
		// A byte's high bit is set below when it is 0x80 or more, less than
		// 0x20, or one of the bytes looked for (the bit tricks of "Bit
		// Twiddling Hacks", "Determine if a word has a byte less than n" and
		// "... has a zero byte"): a byte above one that is may be flagged
		// too, so a word is exact only on whether any byte is, which is all
		// that is asked here.
		q, bs := w^('"'*ones), w^('\\'*ones)
		m := w | (w - 0x20*ones) | ((q - ones) &^ q) | ((bs - ones) &^ bs)
		if html {
			lt, gt, amp := w^('<'*ones), w^('>'*ones), w^('&'*ones)
			m |= ((lt - ones) &^ lt) | ((gt - ones) &^ gt) | ((amp - ones) &^ amp)
		}
		if m&highs != 0 {
			break
		}
	}
	tbl := &safe
	if html {
		tbl = &htmlSafe
	}
	for i < len(s) && tbl[s[i]] {
		i++
	}
	return i
}
