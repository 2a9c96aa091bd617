package dynamodb

import (
	"bytes"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/service/dynamodb/expr"
	"github.com/wharf-dev/wharf/internal/store"
)

// keyOf returns the store key suffix (<hash><range>) of a key or an item, after
// checking the key attributes against the schema. exact requires the map to
// hold only the key attributes (GetItem's Key); items may hold more.
func (t *table) keyOf(m Item, exact bool) ([]byte, error) {
	names := []string{t.Hash}
	if t.Range != "" {
		names = append(names, t.Range)
	}
	if exact && len(m) != len(names) {
		return nil, apierr.Validation("The provided key element does not match the schema")
	}
	var b []byte
	for i, name := range names {
		v, ok := m[name]
		if !ok {
			if exact {
				return nil, apierr.Validation("The provided key element does not match the schema")
			}
			return nil, invalid("Missing the key %s in the item", name)
		}
		want := t.Attrs[name]
		if got := expr.TypeOf(v); got != want {
			if exact {
				return nil, apierr.Validation("The provided key element does not match the schema")
			}
			return nil, invalid("Type mismatch for key %s expected: %s actual: %s", name, want, got)
		}
		if emptyKey(v) {
			kind := "string"
			if v.B != nil {
				kind = "binary"
			}
			return nil, apierr.Validation("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty %s value. Key: %s", kind, name)
		}
		size := keyValueSize(v)
		if i == 0 && size > maxHashKeySize {
			return nil, invalid("Size of hashkey has exceeded the maximum size limit of%d bytes", maxHashKeySize)
		}
		if i == 1 && size > maxRangeKeySize {
			return nil, invalid("Aggregated size of all range keys has exceeded the size limit of %d bytes", maxRangeKeySize)
		}
		b = appendKeyPart(b, v)
	}
	return b, nil
}

// keyAttrs returns the table's key attributes of item.
func (t *table) keyAttrs(item Item) Item {
	k := Item{t.Hash: item[t.Hash]}
	if t.Range != "" {
		k[t.Range] = item[t.Range]
	}
	return k
}

// indexKey returns the index entry key of item for ix, or nil when the item
// has no entry in ix: it lacks an index key attribute (indexes are sparse),
// or one has a type, an emptiness or a size no index key may have. Writes
// reject such items (checkIndexKeys); items already in the table when an
// index is added are left out of it, as DynamoDB's backfill skips them.
func (t *table) indexKey(ix *index, item Item, tableKey []byte) []byte {
	b := t.indexPrefix(ix)
	nHash := len(ix.hashKeys())
	for i, name := range ix.keyNames() {
		v, ok := item[name]
		if !ok || expr.TypeOf(v) != t.Attrs[name] || emptyKey(v) || keyValueSize(v) > keyLimit(min(i/nHash, 1)) {
			return nil
		}
		b = appendKeyPart(b, v)
	}
	return append(b, tableKey...)
}

// keyLimit is the size limit of a partition key (part 0) or a sort key (1).
func keyLimit(part int) int {
	if part == 0 {
		return maxHashKeySize
	}
	return maxRangeKeySize
}

func emptyKey(v Value) bool {
	return (v.S != nil && *v.S == "") || (v.B != nil && len(v.B) == 0)
}

// checkIndexKeys rejects an item whose index key attributes have the wrong
// type, are empty or are over the key size limits, as DynamoDB does on write.
func (t *table) checkIndexKeys(item Item) error {
	for i := range t.Indexes {
		ix := &t.Indexes[i]
		for _, name := range ix.keyNames() {
			v, ok := item[name]
			if !ok {
				continue
			}
			if got, want := expr.TypeOf(v), t.Attrs[name]; got != want {
				return invalid("Type mismatch for Index Key %s Expected: %s Actual: %s IndexName: %s", name, want, got, ix.Name)
			}
			if emptyKey(v) {
				return apierr.Validation("One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: %s, IndexKey: %s", ix.Name, name)
			}
		}
		// Sizes matter only to an item the index holds, one with all its keys.
		names, complete := ix.keyNames(), true
		for _, name := range names {
			if _, ok := item[name]; !ok {
				complete = false
			}
		}
		if !complete {
			continue
		}
		nHash := len(ix.hashKeys())
		for i, name := range names {
			if v := item[name]; keyValueSize(v) > keyLimit(min(i/nHash, 1)) {
				return invalid("Size limit exceeded for Index Key %s Actual Size: %d bytes Max Size: %d bytes IndexName: %s", name, keyValueSize(v), keyLimit(min(i/nHash, 1)), ix.Name)
			}
		}
	}
	return nil
}

// readItem returns the item at key, or nil when there is none or it expired.
func readItem(tx store.Tx, t *table, key []byte, now time.Time) (Item, error) {
	raw, err := tx.Get(append(t.itemPrefix(), key...))
	if err != nil || raw == nil {
		return nil, err
	}
	item, err := decodeItem(raw)
	if err != nil {
		return nil, err
	}
	if t.expired(item, now) {
		return nil, nil
	}
	return item, nil
}

// readStored returns the item at key in its stored form, copied out of the
// transaction, and its size (itemSize), or nil when there is none or it
// expired.
func readStored(tx store.Tx, t *table, key []byte, now time.Time) ([]byte, int, error) {
	raw, err := tx.Get(append(t.itemPrefix(), key...))
	if err != nil || raw == nil {
		return nil, 0, err
	}
	size, canonical, err := storedSize(raw)
	if err != nil {
		return nil, 0, err
	}
	if !canonical {
		// Not as encodeItem writes it (no wharf wrote such an item).
		item, err := decodeItem(raw)
		if err != nil {
			return nil, 0, err
		}
		raw, size = encodeItem(item), itemSize(item)
	}
	if t.hasTTL() {
		v, ok, err := storedAttr(raw, t.TTLAttr)
		if err != nil {
			return nil, 0, err
		}
		if ttlPassed(v, ok, now) {
			return nil, 0, nil
		}
	}
	return bytes.Clone(raw), size, nil
}

// writeItem replaces old (nil: none) by item (nil: delete) at key, keeping
// every index in step and recording the change in the table's stream (ttl:
// a TTL deletion).
func (s *Service) writeItem(tx store.Tx, t *table, key []byte, old, item Item, ttl bool) error {
	if err := s.appendRecord(tx, t, old, item, ttl); err != nil {
		return err
	}
	for i := range t.Indexes {
		ix := &t.Indexes[i]
		var oldK, newK []byte
		if old != nil {
			oldK = t.indexKey(ix, old, key)
		}
		if item != nil {
			newK = t.indexKey(ix, item, key)
		}
		if oldK != nil && !bytes.Equal(oldK, newK) {
			if err := tx.Delete(oldK); err != nil {
				return err
			}
		}
		if newK != nil {
			if err := tx.Put(newK, key); err != nil {
				return err
			}
		}
	}
	full := append(t.itemPrefix(), key...)
	if item == nil {
		return tx.Delete(full)
	}
	return tx.Put(full, encodeItem(item))
}

// checkItemSize enforces the 400 KB item limit.
func checkItemSize(item Item) error {
	if itemSize(item) > maxItemSize {
		return apierr.Validation("Item size has exceeded the maximum allowed size")
	}
	return nil
}
