package storetest

import (
	"bytes"
	"testing"

	"github.com/wharf-dev/wharf/internal/store"
)

// DeletePrefix deletes every key under prefix in one Update, as wharf's
// reset does for a service: for tests that reset a service under a loop.
func DeletePrefix(t testing.TB, st store.Store, prefix string) {
	t.Helper()
	err := st.Update(func(tx store.Tx) error {
		var keys [][]byte
		err := tx.Scan([]byte(prefix), nil, func(k, _ []byte) (bool, error) {
			keys = append(keys, bytes.Clone(k))
			return true, nil
		})
		for _, k := range keys {
			if err == nil {
				err = tx.Delete(k)
			}
		}
		return err
	})
	if err != nil {
		t.Fatalf("delete %q: %v", prefix, err)
	}
}

// Keys returns every key under prefix, in order.
func Keys(t testing.TB, st store.Store, prefix string) []string {
	t.Helper()
	var keys []string
	err := st.View(func(tx store.Tx) error {
		return tx.Scan([]byte(prefix), nil, func(k, _ []byte) (bool, error) {
			keys = append(keys, string(k))
			return true, nil
		})
	})
	if err != nil {
		t.Fatalf("scan %q: %v", prefix, err)
	}
	return keys
}
