// Package number is DynamoDB's number type: a decimal of up to 38 significant
// digits whose magnitude lies between 1E-130 and 9.99...E+125, compared and
// summed exactly. Floats would round 0.1+0.2 and lose digits past 17; DynamoDB
// does neither ("Data types" in the DynamoDB developer guide).
package number

import (
	"math/big"
	"strings"
)

// Limits of the number type ("Data types", DynamoDB developer guide).
const (
	MaxDigits = 38   // significant digits
	MaxExp    = 125  // largest exponent of the leading digit (9.99E+125)
	MinExp    = -130 // smallest exponent of the leading digit (1E-130)
)

// Errors carry DynamoDB's own words; the service wraps them in a ValidationException.
type Error string

func (e Error) Error() string { return string(e) }

// The errors Parse and the arithmetic return, in DynamoDB's words.
const (
	ErrSyntax    Error = "The parameter cannot be converted to a numeric value"
	ErrDigits    Error = "Attempting to store more than 38 significant digits in a Number"
	ErrOverflow  Error = "Number overflow. Attempting to store a number with magnitude larger than supported range"
	ErrUnderflow Error = "Number underflow. Attempting to store a number with magnitude smaller than supported range"
)

// Decimal is an exact decimal value: (-1)^neg × coef × 10^exp, where coef is a
// string of decimal digits without leading or trailing zeros. Zero has an empty
// coef. The zero Decimal is the number 0.
type Decimal struct {
	neg  bool
	coef string
	exp  int
}

// Parse reads s as DynamoDB reads a number: an optional sign, digits with an
// optional decimal point, and an optional exponent ("-1.5e3", ".5", "7.").
// Leading and trailing zeros do not count as significant digits.
func Parse(s string) (Decimal, error) {
	d, err := parseUnchecked(s)
	if err != nil {
		return Decimal{}, err
	}
	return d, d.check()
}

func parseUnchecked(s string) (Decimal, error) {
	var d Decimal
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		d.neg = s[i] == '-'
		i++
	}
	var digits []byte
	seenDigit, seenPoint := false, false
	frac := 0
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			seenDigit = true
			if c == '0' && len(digits) == 0 {
				// A leading zero: only its position (if after the point) matters.
				if seenPoint {
					frac++
				}
				continue
			}
			digits = append(digits, c)
			if seenPoint {
				frac++
			}
		case c == '.' && !seenPoint:
			seenPoint = true
		default:
			goto exponent
		}
	}
exponent:
	if !seenDigit {
		return Decimal{}, ErrSyntax
	}
	exp := 0
	if i < len(s) {
		if s[i] != 'e' && s[i] != 'E' {
			return Decimal{}, ErrSyntax
		}
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		if i == len(s) {
			return Decimal{}, ErrSyntax
		}
		for ; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return Decimal{}, ErrSyntax
			}
			if exp < 1_000_000 { // beyond any limit; stop growing so it cannot overflow
				exp = exp*10 + int(c-'0')
			}
		}
		if eneg {
			exp = -exp
		}
	}
	// Trailing zeros of the coefficient move into the exponent.
	n := len(digits)
	for n > 0 && digits[n-1] == '0' {
		n--
	}
	exp += len(digits) - n - frac
	d.coef = string(digits[:n])
	d.exp = exp
	if d.coef == "" {
		return Decimal{}, nil // -0 is 0
	}
	return d, nil
}

// check enforces DynamoDB's precision and range.
func (d Decimal) check() error {
	if d.coef == "" {
		return nil
	}
	if len(d.coef) > MaxDigits {
		return ErrDigits
	}
	switch e := d.sciExp(); {
	case e > MaxExp:
		return ErrOverflow
	case e < MinExp:
		return ErrUnderflow
	}
	return nil
}

// sciExp is the exponent of the leading digit in scientific notation.
func (d Decimal) sciExp() int { return d.exp + len(d.coef) - 1 }

// IsZero reports whether d is 0.
func (d Decimal) IsZero() bool { return d.coef == "" }

// Neg returns -d.
func (d Decimal) Neg() Decimal {
	if d.coef != "" {
		d.neg = !d.neg
	}
	return d
}

// Digits is the number of significant digits (0 for zero).
func (d Decimal) Digits() int { return len(d.coef) }

// Cmp returns -1, 0 or +1 as d is less than, equal to or greater than e.
func (d Decimal) Cmp(e Decimal) int {
	ds, es := d.sign(), e.sign()
	if ds != es {
		if ds < es {
			return -1
		}
		return 1
	}
	if ds == 0 {
		return 0
	}
	c := cmpMagnitude(d, e)
	if ds < 0 {
		return -c
	}
	return c
}

func (d Decimal) sign() int {
	switch {
	case d.coef == "":
		return 0
	case d.neg:
		return -1
	}
	return 1
}

// cmpMagnitude compares |d| and |e|, both non-zero.
func cmpMagnitude(d, e Decimal) int {
	if a, b := d.sciExp(), e.sciExp(); a != b {
		if a < b {
			return -1
		}
		return 1
	}
	// Same leading exponent: the digit strings (without trailing zeros) compare
	// as the numbers do, a shorter prefix being smaller.
	return strings.Compare(d.coef, e.coef)
}

// Add returns d+e exactly, or an error when the sum does not fit DynamoDB's
// number type (more than 38 significant digits, or out of range).
func (d Decimal) Add(e Decimal) (Decimal, error) {
	if d.IsZero() {
		return e, e.check()
	}
	if e.IsZero() {
		return d, d.check()
	}
	exp := min(d.exp, e.exp)
	a, b := d.scaled(exp), e.scaled(exp)
	a.Add(a, b)
	r := fromBig(a, exp)
	return r, r.check()
}

// Sub returns d-e exactly, with Add's limits.
func (d Decimal) Sub(e Decimal) (Decimal, error) { return d.Add(e.Neg()) }

// scaled returns d's value × 10^-exp as an integer; exp ≤ d.exp.
func (d Decimal) scaled(exp int) *big.Int {
	var b strings.Builder
	if d.neg {
		b.WriteByte('-')
	}
	b.WriteString(d.coef)
	for i := exp; i < d.exp; i++ {
		b.WriteByte('0')
	}
	n, _ := new(big.Int).SetString(b.String(), 10)
	return n
}

func fromBig(n *big.Int, exp int) Decimal {
	s := n.String()
	d := Decimal{}
	if strings.HasPrefix(s, "-") {
		d.neg = true
		s = s[1:]
	}
	k := len(s)
	for k > 0 && s[k-1] == '0' {
		k--
	}
	if k == 0 {
		return Decimal{}
	}
	d.coef = s[:k]
	d.exp = exp + len(s) - k
	return d
}

// String is the canonical form DynamoDB returns: plain decimal notation, no
// exponent, no leading or trailing zeros ("1.50" and "15E-1" both read "1.5").
func (d Decimal) String() string {
	if d.coef == "" {
		return "0"
	}
	var b strings.Builder
	if d.neg {
		b.WriteByte('-')
	}
	switch {
	case d.exp >= 0:
		b.WriteString(d.coef)
		for i := 0; i < d.exp; i++ {
			b.WriteByte('0')
		}
	case -d.exp >= len(d.coef):
		b.WriteString("0.")
		for i := 0; i < -d.exp-len(d.coef); i++ {
			b.WriteByte('0')
		}
		b.WriteString(d.coef)
	default:
		p := len(d.coef) + d.exp
		b.WriteString(d.coef[:p])
		b.WriteByte('.')
		b.WriteString(d.coef[p:])
	}
	return b.String()
}

// Rat returns d as an exact rational, for tests and for callers that need one.
func (d Decimal) Rat() *big.Rat {
	r, _ := new(big.Rat).SetString(d.String())
	return r
}

// Key byte layout: a class byte, then for non-zero numbers the leading exponent
// in two bytes and the digits, each as one byte, ending in a terminator. Negative
// numbers complement the exponent and the digits and end in a terminator that is
// larger than every digit, so that -1.2 (shorter) sorts after -1.23.
const (
	keyNeg  = 0x40
	keyZero = 0x80
	keyPos  = 0xc0
	expBias = 1 << 14
)

// AppendKey appends an order-preserving, prefix-free encoding of d to b: for
// any a and c, bytes.Compare(a.AppendKey(nil), c.AppendKey(nil)) == a.Cmp(c),
// and no encoding is a prefix of another. Sort keys and index keys use it so
// that a store scan visits numbers in numeric order.
func (d Decimal) AppendKey(b []byte) []byte {
	if d.coef == "" {
		return append(b, keyZero)
	}
	e := d.sciExp() + expBias
	if !d.neg {
		b = append(b, keyPos, byte(e>>8), byte(e))
		for i := 0; i < len(d.coef); i++ {
			b = append(b, d.coef[i]-'0'+1)
		}
		return append(b, 0)
	}
	e = 0xffff - e
	b = append(b, keyNeg, byte(e>>8), byte(e))
	for i := 0; i < len(d.coef); i++ {
		b = append(b, 11-(d.coef[i]-'0'))
	}
	return append(b, 0xff)
}

// DecodeKey reads a key written by AppendKey from the front of b, returning the
// number and the bytes after it.
func DecodeKey(b []byte) (Decimal, []byte, bool) {
	if len(b) == 0 {
		return Decimal{}, nil, false
	}
	switch b[0] {
	case keyZero:
		return Decimal{}, b[1:], true
	case keyPos, keyNeg:
	default:
		return Decimal{}, nil, false
	}
	neg := b[0] == keyNeg
	if len(b) < 3 {
		return Decimal{}, nil, false
	}
	e := int(b[1])<<8 | int(b[2])
	if neg {
		e = 0xffff - e
	}
	e -= expBias
	var coef []byte
	for i := 3; i < len(b); i++ {
		c := b[i]
		if (!neg && c == 0) || (neg && c == 0xff) {
			if len(coef) == 0 {
				return Decimal{}, nil, false
			}
			d := Decimal{neg: neg, coef: string(coef)}
			d.exp = e - len(coef) + 1
			return d, b[i+1:], true
		}
		if neg {
			c = 11 - c
		} else {
			c--
		}
		if c > 9 {
			return Decimal{}, nil, false
		}
		coef = append(coef, '0'+c)
	}
	return Decimal{}, nil, false
}
