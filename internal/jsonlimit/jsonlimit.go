// Package jsonlimit measures how deeply a JSON document nests, in one pass over
// its bytes, so that decoders can refuse a hostile document before building
// anything from it.
package jsonlimit

// Depth returns how deeply objects and arrays nest in data, counting only
// brackets outside strings, and stops counting once past max (returning a
// value above max). It does not check the syntax: the decoder does that
// afterwards, and a malformed document fails there.
func Depth(data []byte, max int) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > deepest {
				deepest = depth
				if deepest > max {
					return deepest
				}
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}
