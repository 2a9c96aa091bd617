package pattern

import (
	"encoding/json"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeFast decodes a well-formed JSON document into what encoding/json's
// Decoder with UseNumber produces (map[string]any, []any, string,
// json.Number, bool, nil), in one pass without the Decoder's token
// machinery: every event is parsed to be matched, most often an envelope
// wharf wrote itself. It returns false on anything it does not take
// (bad syntax or UTF-8, a lone surrogate escape, which encoding/json
// would turn into U+FFFD, nesting past maxDepth), and the caller then asks
// encoding/json, which answers as before.
func decodeFast(b []byte) (any, bool) {
	if !utf8.Valid(b) {
		return nil, false
	}
	d := fastDecoder{b: b}
	v, ok := d.value(0)
	if !ok {
		return nil, false
	}
	d.space()
	return v, d.i == len(d.b)
}

type fastDecoder struct {
	b   []byte
	i   int
	buf []byte
}

func (d *fastDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *fastDecoder) peek() byte {
	d.space()
	if d.i >= len(d.b) {
		return 0
	}
	return d.b[d.i]
}

func (d *fastDecoder) literal(word string) bool {
	if len(d.b)-d.i < len(word) || string(d.b[d.i:d.i+len(word)]) != word {
		return false
	}
	d.i += len(word)
	return true
}

func (d *fastDecoder) value(depth int) (any, bool) {
	switch c := d.peek(); c {
	case '{':
		if depth >= maxDepth {
			return nil, false
		}
		d.i++
		obj := map[string]any{}
		if d.peek() == '}' {
			d.i++
			return obj, true
		}
		for {
			if d.peek() != '"' {
				return nil, false
			}
			k, ok := d.str()
			if !ok || d.peek() != ':' {
				return nil, false
			}
			d.i++
			v, ok := d.value(depth + 1)
			if !ok {
				return nil, false
			}
			obj[k] = v
			switch d.peek() {
			case ',':
				d.i++
			case '}':
				d.i++
				return obj, true
			default:
				return nil, false
			}
		}
	case '[':
		if depth >= maxDepth {
			return nil, false
		}
		d.i++
		arr := []any{}
		if d.peek() == ']' {
			d.i++
			return arr, true
		}
		for {
			v, ok := d.value(depth + 1)
			if !ok {
				return nil, false
			}
			arr = append(arr, v)
			switch d.peek() {
			case ',':
				d.i++
			case ']':
				d.i++
				return arr, true
			default:
				return nil, false
			}
		}
	case '"':
		return d.str()
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	case 'n':
		return nil, d.literal("null")
	}
	return d.number()
}

// str reads a string token (d at its opening quote).
func (d *fastDecoder) str() (string, bool) {
	d.i++
	start := d.i
	for d.i < len(d.b) {
		switch c := d.b[d.i]; {
		case c == '"':
			d.i++
			return string(d.b[start : d.i-1]), true
		case c == '\\':
			return d.escaped(start)
		case c < 0x20:
			return "", false
		}
		d.i++
	}
	return "", false
}

func (d *fastDecoder) escaped(start int) (string, bool) {
	b := append(d.buf[:0], d.b[start:d.i]...)
	defer func() { d.buf = b }()
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return string(b), true
		case c < 0x20:
			return "", false
		case c != '\\':
			b = append(b, c)
			d.i++
			continue
		}
		if d.i+1 >= len(d.b) {
			return "", false
		}
		switch e := d.b[d.i+1]; e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := hex4(d.b[d.i+2:])
			if !ok {
				return "", false
			}
			d.i += 6
			if utf16.IsSurrogate(r) {
				if r >= 0xdc00 || d.i+1 >= len(d.b) || d.b[d.i] != '\\' || d.b[d.i+1] != 'u' {
					return "", false
				}
				lo, ok := hex4(d.b[d.i+2:])
				if !ok || lo < 0xdc00 || lo >= 0xe000 {
					return "", false
				}
				d.i += 6
				r = utf16.DecodeRune(r, lo)
			}
			b = utf8.AppendRune(b, r)
			continue
		default:
			return "", false
		}
		d.i += 2
	}
	return "", false
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// number reads a number token by JSON's grammar, kept as its text.
func (d *fastDecoder) number() (any, bool) {
	p, i := d.b, d.i
	digits := func() bool {
		s := i
		for i < len(p) && p[i] >= '0' && p[i] <= '9' {
			i++
		}
		return i > s
	}
	if i < len(p) && p[i] == '-' {
		i++
	}
	switch {
	case i < len(p) && p[i] == '0':
		i++
	case !digits():
		return nil, false
	}
	if i < len(p) && p[i] == '.' {
		i++
		if !digits() {
			return nil, false
		}
	}
	if i < len(p) && (p[i] == 'e' || p[i] == 'E') {
		i++
		if i < len(p) && (p[i] == '+' || p[i] == '-') {
			i++
		}
		if !digits() {
			return nil, false
		}
	}
	n := json.Number(p[d.i:i])
	d.i = i
	return n, true
}
