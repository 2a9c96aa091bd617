package store_test

import (
	"sync"
	"testing"

	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/store/storetest"
)

// TestMemoryMeetsTheContract and TestDiskMeetsTheContract run the contract
// every backend must meet (storetest.Run) against both of wharf's stores.
func TestMemoryMeetsTheContract(t *testing.T) {
	storetest.Run(t, storetest.Impl{Open: func(testing.TB) store.Store { return store.OpenMemory() }})
}

func TestDiskMeetsTheContract(t *testing.T) {
	var dirs sync.Map // store → its directory, for Reopen
	open := func(t testing.TB, dir string) store.Store {
		t.Helper()
		s, err := store.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		dirs.Store(s, dir)
		t.Cleanup(func() { s.Close() })
		return s
	}
	storetest.Run(t, storetest.Impl{
		Open: func(t testing.TB) store.Store { return open(t, t.TempDir()) },
		Reopen: func(t testing.TB, s store.Store) store.Store {
			t.Helper()
			dir, _ := dirs.Load(s)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			return open(t, dir.(string))
		},
	})
}
