package timeline

import (
	"time"
	"unicode/utf8"
)

// appendJSON appends e as the JSON object encoding/json makes of it (the
// same members, names and omitempty rules; Open reads it back with
// encoding/json). Saving every hop went through reflection before, a
// visible share of what a durable SQS message cost.
func appendJSON(b []byte, e *Entry) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, e.ID)
	b = append(b, `,"time":"`...)
	b = e.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","service":`...)
	b = appendString(b, e.Service)
	b = append(b, `,"kind":`...)
	b = appendString(b, e.Kind)
	for _, f := range [...]struct{ name, v string }{
		{`,"resource":`, e.Resource}, {`,"subject":`, e.Subject}, {`,"cause":`, e.Cause},
		{`,"outcome":`, e.Outcome}, {`,"error":`, e.Error}, {`,"detail":`, e.Detail},
	} {
		if f.v != "" {
			b = append(b, f.name...)
			b = appendString(b, f.v)
		}
	}
	if e.Quiet {
		b = append(b, `,"quiet":true`...)
	}
	return append(b, '}')
}

// appendString appends s as a JSON string: quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced by U+FFFD, as encoding/json
// does.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
