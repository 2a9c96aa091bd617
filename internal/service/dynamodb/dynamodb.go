// Package dynamodb is wharf's Amazon DynamoDB: tables with local and global
// secondary indexes, items with condition, update and projection expressions,
// queries and scans in DynamoDB's key order, batches, transactions and TTL,
// kept in the durable store.
//
// # Key layout
//
//	ddb/t/<account>/<region>/<table>          table metadata (JSON)
//	ddb/i/<tid>/<hash><range>                 an item (binary, see encodeItem)
//	ddb/x/<tid>/<index>\x00<ihash><irange><hash><range>
//	                                          an index entry; its value is <hash><range>
//	ddb/k/<account>/<region>/<token>          a TransactWriteItems idempotency token
//	ddb/bm/<backup arn>                       an on-demand backup's metadata (JSON)
//	ddb/bi/<backup id>/<hash><range>          a backed-up copy of an item
//	ddb/p/<tid>                               the table's resource policy (JSON)
//
// <tid> is the table's unique id, so a table deleted and created again never
// sees its predecessor's items. Key parts use appendKeyPart, an order-preserving
// prefix-free encoding, so a Query is an ordered scan of one key prefix.
package dynamodb

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	ddb "github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/service/dynamodb/number"
	"github.com/wharf-dev/wharf/internal/store"
)

// Options configure a Service.
type Options struct {
	Store store.Store
	// Clock is the time the service reads; nil means clock.Real.
	Clock clock.Clock
	// Random fills ids; defaults to crypto/rand.
	Random func(b []byte)
	// Logger defaults to slog.Default.
	Logger *slog.Logger
}

// Service implements the DynamoDB operations.
type Service struct {
	st     store.Store
	now    func() time.Time
	random func([]byte)
	log    *slog.Logger
	after  func(time.Duration) <-chan time.Time

	// tables caches decoded table metadata by store key. Every read still
	// fetches the stored bytes, so a cached table is used only while its bytes
	// are unchanged; decoding JSON on every item operation cost more than the
	// operation itself.
	tables sync.Map // string → cachedTable

	seq sequencer // stream record sequence numbers

	metrics capacityMetrics // AWS/DynamoDB consumed capacity (SetMetrics)

	// policies says whether a table may have a resource-based policy:
	// policiesUnknown until the store is first asked, then policiesNone or
	// policiesMaybe; PutResourcePolicy sets policiesMaybe for good.
	policies atomic.Int32
}

const (
	policiesUnknown int32 = iota
	policiesNone
	policiesMaybe
)

type cachedTable struct {
	raw []byte
	t   *table
}

// New returns a Service over opts.Store.
func New(opts Options) *Service {
	s := &Service{st: opts.Store, now: clock.Or(opts.Clock).Now, random: opts.Random, log: opts.Logger, after: clock.Or(opts.Clock).After}
	if s.random == nil {
		s.random = func(b []byte) { _, _ = rand.Read(b) }
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// index is a secondary index's definition.
type index struct {
	Name       string
	Global     bool
	Hash       string
	Range      string   `json:",omitempty"`
	Projection string   // ALL, KEYS_ONLY, INCLUDE
	NonKey     []string `json:",omitempty"`
	RCU, WCU   int64    `json:",omitempty"`
	// ExtraHash and ExtraRange are the further attributes of a global
	// index's multi-attribute keys (up to 4 each, "Multi-attribute keys").
	ExtraHash  []string `json:",omitempty"`
	ExtraRange []string `json:",omitempty"`
}

// hashKeys are the index's partition key attributes, in schema order.
func (ix *index) hashKeys() []string { return append([]string{ix.Hash}, ix.ExtraHash...) }

// rangeKeys are the index's sort key attributes, in schema order.
func (ix *index) rangeKeys() []string {
	if ix.Range == "" {
		return nil
	}
	return append([]string{ix.Range}, ix.ExtraRange...)
}

// keyNames are every key attribute of the index, partition keys first.
func (ix *index) keyNames() []string { return append(ix.hashKeys(), ix.rangeKeys()...) }

// isKey reports whether name is one of the index's key attributes.
func (ix *index) isKey(name string) bool { return slices.Contains(ix.keyNames(), name) }

// composite reports whether a key of the index has several attributes.
func (ix *index) composite() bool { return len(ix.ExtraHash)+len(ix.ExtraRange) > 0 }

// table is a table's metadata as stored.
type table struct {
	Name               string
	ID                 string
	Account, Region    string
	Created            time.Time
	Attrs              map[string]string // attribute name → S, N or B, for key attributes
	Hash               string
	Range              string `json:",omitempty"`
	Billing            string
	RCU, WCU           int64             `json:",omitempty"`
	Indexes            []index           `json:",omitempty"`
	Tags               map[string]string `json:",omitempty"`
	TTLAttr            string            `json:",omitempty"`
	TTLEnabled         bool              `json:",omitempty"`
	DeletionProtection bool              `json:",omitempty"`
	TableClass         string            `json:",omitempty"`
	SSE                sse               `json:",omitzero"`
	StreamEnabled      bool              `json:",omitempty"`
	StreamViewType     string            `json:",omitempty"`
	Streams            []stream          `json:",omitempty"` // every stream the table has had, the current one last

	raw []byte // the stored bytes this was decoded from (getTable)
}

func (t *table) arn() string {
	return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", t.Region, t.Account, t.Name)
}

func (t *table) index(name string) *index {
	for i := range t.Indexes {
		if t.Indexes[i].Name == name {
			return &t.Indexes[i]
		}
	}
	return nil
}

func tableKey(account, region, name string) []byte {
	return []byte("ddb/t/" + account + "/" + region + "/" + name)
}

func tablePrefix(account, region string) []byte {
	return []byte("ddb/t/" + account + "/" + region + "/")
}

func (t *table) itemPrefix() []byte { return []byte("ddb/i/" + t.ID + "/") }

func (t *table) indexPrefix(ix *index) []byte {
	return []byte("ddb/x/" + t.ID + "/" + ix.Name + "\x00")
}

func caller(ctx context.Context) (account, region string) {
	c := awsapi.CallerFrom(ctx)
	account, region = c.Account, c.Region
	if account == "" {
		account = "000000000000"
	}
	if region == "" {
		region = "us-east-1"
	}
	return account, region
}

func tableNotFound(name string) error {
	return ddb.ErrResourceNotFoundException("Requested resource not found: Table: %s not found", name)
}

// loadTable reads a table's metadata inside tx.
func loadTable(tx store.Tx, account, region, name string) (*table, error) {
	raw, err := tx.Get(tableKey(account, region, name))
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, tableNotFound(name)
	}
	t := &table{}
	if err := json.Unmarshal(raw, t); err != nil {
		return nil, fmt.Errorf("decode table %s: %w", name, err)
	}
	return t, nil
}

func saveTable(tx store.Tx, t *table) error {
	raw, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return tx.Put(tableKey(t.Account, t.Region, t.Name), raw)
}

// getTable reads a table's metadata in its own read transaction. The result
// is shared: callers must not modify it. name is a table name or a table's
// ARN; another account's table, named by its ARN, is reachable only when its
// resource-based policy granted the request (the authorizer says so on the
// caller), as DynamoDB's cross-account access is ("Resource-based policy
// for cross-account access").
func (s *Service) getTable(ctx context.Context, name *string) (*table, error) {
	if name == nil || *name == "" {
		return nil, apierr.Validation("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
	}
	account, region := caller(ctx)
	n := *name
	if strings.HasPrefix(n, "arn:") {
		parts := strings.SplitN(n, ":", 6)
		rest, isTable := strings.CutPrefix(parts[len(parts)-1], "table/")
		if len(parts) != 6 || parts[2] != "dynamodb" || !isTable || rest == "" || strings.Contains(rest, "/") {
			return nil, apierr.Validation("Invalid TableName: %s", n)
		}
		if parts[3] != region {
			return nil, tableNotFound(n) // a table is reached through its own region
		}
		if c := awsapi.CallerFrom(ctx); parts[4] != account && !c.ResourcePolicyGrant {
			return nil, apierr.New("AccessDeniedException", 400,
				"User: %s is not authorized to access table %s because no resource-based policy allows it", c.ARN, n)
		}
		account, n = parts[4], rest
	} else if err := checkTableName(name); err != nil {
		// The name is checked against the model before the table is looked up.
		return nil, err
	}
	var t *table
	err := s.st.View(func(tx store.Tx) (err error) {
		t, err = s.cachedTable(tx, account, region, n)
		return err
	})
	return t, err
}

// cachedTable reads a table's metadata in tx, decoding it only when its
// stored record changed since it was last decoded.
func (s *Service) cachedTable(tx store.Tx, account, region, name string) (*table, error) {
	key := tableKey(account, region, name)
	raw, err := tx.Get(key)
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, tableNotFound(name)
	}
	if c, ok := s.tables.Load(string(key)); ok && bytes.Equal(c.(cachedTable).raw, raw) {
		return c.(cachedTable).t, nil
	}
	t := &table{raw: bytes.Clone(raw)}
	if err := json.Unmarshal(raw, t); err != nil {
		return nil, fmt.Errorf("decode table %s: %w", name, err)
	}
	s.tables.Store(string(key), cachedTable{bytes.Clone(raw), t})
	return t, nil
}

func (s *Service) newID() string {
	b := make([]byte, 16)
	s.random(b)
	return hex.EncodeToString(b)
}

// expired reports whether TTL has passed for item in t: its TTL attribute is a
// number of epoch seconds not after now. DynamoDB deletes such items in the
// background; wharf also hides them from reads until then.
func (t *table) expired(item Item, now time.Time) bool {
	if !t.hasTTL() {
		return false
	}
	v, ok := item[t.TTLAttr]
	return ttlPassed(v, ok, now)
}

// hasTTL reports whether items of t expire.
func (t *table) hasTTL() bool { return t.TTLEnabled && t.TTLAttr != "" }

// ttlPassed reports whether v, an item's TTL attribute (ok: it has one),
// is a time not after now.
func ttlPassed(v Value, ok bool, now time.Time) bool {
	if !ok || v.N == nil {
		return false
	}
	d, err := number.Parse(*v.N)
	if err != nil {
		return false
	}
	nowD, _ := number.Parse(fmt.Sprint(now.Unix()))
	return d.Cmp(nowD) <= 0
}

// Run deletes expired TTL items every few seconds until ctx is cancelled.
func (s *Service) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.after(5 * time.Second):
		}
		if _, err := s.SweepExpired(); err != nil && !errors.Is(err, store.ErrClosed) {
			s.log.Error("dynamodb ttl sweep", "err", err)
		}
		if err := s.trimStreams(); err != nil && !errors.Is(err, store.ErrClosed) {
			s.log.Error("dynamodb stream trim", "err", err)
		}
	}
}

// SweepExpired deletes every item whose TTL has passed, in every table with
// TTL enabled, and returns how many it deleted.
func (s *Service) SweepExpired() (int, error) {
	var tables []*table
	err := s.st.View(func(tx store.Tx) error {
		return tx.Scan([]byte("ddb/t/"), nil, func(k, v []byte) (bool, error) {
			t := &table{}
			if err := json.Unmarshal(v, t); err == nil && t.TTLEnabled {
				tables = append(tables, t)
			}
			return true, nil
		})
	})
	if err != nil {
		return 0, err
	}
	deleted := 0
	now := s.now()
	for _, t := range tables {
		var n int
		err := s.st.Update(func(tx store.Tx) error {
			n = 0
			cur, err := loadTable(tx, t.Account, t.Region, t.Name)
			if err != nil || cur.ID != t.ID {
				return nil // deleted or replaced meanwhile
			}
			type victim struct {
				key  []byte
				item Item
			}
			var victims []victim
			err = tx.Scan(cur.itemPrefix(), nil, func(k, v []byte) (bool, error) {
				item, err := decodeItem(v)
				if err != nil {
					return false, err
				}
				if cur.expired(item, now) {
					victims = append(victims, victim{append([]byte(nil), k...), item})
				}
				return len(victims) < 1000, nil
			})
			if err != nil {
				return err
			}
			for _, v := range victims {
				if err := s.writeItem(tx, cur, v.key[len(cur.itemPrefix()):], v.item, nil, true); err != nil {
					return err
				}
			}
			n = len(victims)
			return nil
		})
		if err != nil {
			return deleted, err
		}
		deleted += n
	}
	return deleted, nil
}
