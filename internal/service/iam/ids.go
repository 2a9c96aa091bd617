package iam

import (
	"fmt"
	"io"
	"strings"
	"sync"
)

// AWS unique identifiers are a four-letter prefix naming the kind of entity and
// base32-alphabet characters ("IAM identifiers", section "Unique identifiers"):
// AIDA users, AROA roles, AGPA groups, ANPA managed policies, AKIA access keys, ASIA
// temporary access keys. Ids have 17 characters after the prefix, access key ids 16.
const (
	prefixUser      = "AIDA"
	prefixRole      = "AROA"
	prefixGroup     = "AGPA"
	prefixPolicy    = "ANPA"
	prefixAccessKey = "AKIA"
	prefixTempKey   = "ASIA"

	base32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

// ids draws identifiers and secrets from an injected source of randomness, so
// tests get the same ids on every run.
type ids struct {
	mu  sync.Mutex
	src io.Reader
}

// draw returns n characters of alphabet (whose length divides 256, so every
// character is equally likely).
func (g *ids) draw(n int, alphabet string) (string, error) {
	buf := make([]byte, n)
	g.mu.Lock()
	_, err := io.ReadFull(g.src, buf)
	g.mu.Unlock()
	if err != nil {
		return "", fmt.Errorf("draw id: %w", err)
	}
	var b strings.Builder
	b.Grow(n)
	for _, c := range buf {
		b.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return b.String(), nil
}

// id returns a unique id of the given kind: prefix + 17 characters.
func (g *ids) id(prefix string) (string, error) {
	s, err := g.draw(17, base32Alphabet)
	return prefix + s, err
}

// accessKeyID returns prefix + 16 characters, AWS's 20-character key id.
func (g *ids) accessKeyID(prefix string) (string, error) {
	s, err := g.draw(16, base32Alphabet)
	return prefix + s, err
}

// secret returns a 40-character secret access key.
func (g *ids) secret() (string, error) { return g.draw(40, secretAlphabet) }

// sessionToken returns an opaque session token. AWS's tokens are long base64
// strings; clients only echo them back in X-Amz-Security-Token.
func (g *ids) sessionToken() (string, error) {
	s, err := g.draw(356, secretAlphabet)
	return "IQoJb3JpZ2luX2VjE" + s, err
}
