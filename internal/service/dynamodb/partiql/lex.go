package partiql

import "strings"

type tokenKind int

const (
	tEOF tokenKind = iota
	tIdent
	tQuoted // "double-quoted identifier"
	tString // 'string literal'
	tNumber
	tParam // ?
	tPunct
	tIllegal
)

type token struct {
	kind tokenKind
	text string // an identifier's or string's content, unquoted
}

// lex splits src into tokens. An unterminated quote or an unknown character
// becomes a tIllegal token, which the parser reports where it meets it.
func lex(src string) []token {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '-' && i+1 < len(src) && src[i+1] == '-':
			// A line comment, as in SQL.
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case isIdentStart(c):
			start := i
			for i < len(src) && isIdentChar(src[i]) {
				i++
			}
			toks = append(toks, token{tIdent, src[start:i]})
		case c == '"' || c == '\'':
			text, n, ok := quoted(src[i:], c)
			i += n
			kind := tQuoted
			if c == '\'' {
				kind = tString
			}
			if !ok {
				kind = tIllegal
			}
			toks = append(toks, token{kind, text})
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			start := i
			i = number(src, i)
			toks = append(toks, token{tNumber, src[start:i]})
		case c == '?':
			i++
			toks = append(toks, token{tParam, "?"})
		default:
			if p := punct(src[i:]); p != "" {
				i += len(p)
				toks = append(toks, token{tPunct, p})
				continue
			}
			start := i
			i++
			for i < len(src) && src[i]&0xc0 == 0x80 {
				i++
			}
			toks = append(toks, token{tIllegal, src[start:i]})
		}
	}
	return append(toks, token{tEOF, "<EOF>"})
}

// quoted reads a literal quoted by q at the start of s, where a doubled quote
// stands for one, and returns its content and length.
func quoted(s string, q byte) (string, int, bool) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != q {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == q {
			b.WriteByte(q)
			i++
			continue
		}
		return b.String(), i + 1, true
	}
	return "", len(s), false
}

// number reads digits, a fraction and an exponent from src[i:].
func number(src string, i int) int {
	digits := func() {
		for i < len(src) && src[i] >= '0' && src[i] <= '9' {
			i++
		}
	}
	digits()
	if i < len(src) && src[i] == '.' {
		i++
		digits()
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		j := i + 1
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			j++
		}
		if j < len(src) && src[j] >= '0' && src[j] <= '9' {
			i = j
			digits()
		}
	}
	return i
}

var puncts = []string{"<<", ">>", "<=", ">=", "<>", "!=", "=", "<", ">", "(", ")", "[", "]", "{", "}", ",", ".", ":", "*", "+", "-"}

func punct(s string) string {
	for _, p := range puncts {
		if strings.HasPrefix(s, p) {
			return p
		}
	}
	return ""
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }
