package cloudwatch

import (
	"bytes"
	"strings"

	"github.com/wharf-dev/wharf/internal/store"
)

// The dimension index lets ListMetrics with a dimension filter read the
// metrics that have that dimension, not every metric of the namespace:
//
//	cw/dn/<account>/<region>/<dimension name>\x00<metric>             ""
//	cw/dv/<account>/<region>/<dimension name>\x00<value>\x00<metric>  ""
//	cw/index                                                           dimIndexVersion, once every metric is indexed
//
// Both are written with a metric's descriptor, when the metric is first
// stored; metrics are never deleted but by a reset, which deletes these too.
// Under one name (and value) the entries are in metric order, the order
// ListMetrics lists in.
const (
	dimIndexKey     = "cw/index"
	dimIndexVersion = "1"
)

// dimPrefix is where the metrics with dimension name (and value, unless
// nil) are indexed.
func dimPrefix(sc scope, name string, value *string) []byte {
	if value == nil {
		return append(append(sc.prefix("dn"), name...), 0)
	}
	p := append(append(sc.prefix("dv"), name...), 0)
	return append(append(p, *value...), 0)
}

// putDimIndex indexes the metric m, whose key is mk.
func putDimIndex(tx store.Tx, sc scope, m metricID, mk string) error {
	for _, d := range m.Dims {
		v := d.Value
		for _, p := range [][]byte{dimPrefix(sc, d.Name, nil), dimPrefix(sc, d.Name, &v)} {
			if err := tx.Put(append(p, mk...), []byte{}); err != nil {
				return err
			}
		}
	}
	return nil
}

// buildDimIndex indexes the metrics of a store written before the index,
// in commits of at most 500 metrics, and reports whether the index is
// complete.
func (s *Service) buildDimIndex() (bool, error) {
	done := false
	if err := s.st.View(func(tx store.Tx) error {
		v, err := tx.Get([]byte(dimIndexKey))
		done = string(v) == dimIndexVersion
		return err
	}); err != nil || done {
		return done, err
	}
	var start []byte
	for {
		var next []byte
		err := s.st.Update(func(tx store.Tx) error {
			var keys [][]byte
			next = nil
			err := tx.Scan([]byte("cw/m/"), start, func(k, _ []byte) (bool, error) {
				if len(keys) == 500 {
					next = bytes.Clone(k)
					return false, nil
				}
				keys = append(keys, bytes.Clone(k))
				return true, nil
			})
			if err != nil {
				return err
			}
			for _, k := range keys {
				// cw/m/<account>/<region>/<metric>
				parts := strings.SplitN(string(k), "/", 5)
				if len(parts) != 5 {
					continue
				}
				m, ok := parseMetricKey(parts[4])
				if !ok {
					continue
				}
				if err := putDimIndex(tx, scope{parts[2], parts[3]}, m, parts[4]); err != nil {
					return err
				}
			}
			if next == nil {
				return tx.Put([]byte(dimIndexKey), []byte(dimIndexVersion))
			}
			return nil
		})
		if err != nil {
			return false, err
		}
		if next == nil {
			return true, nil
		}
		start = next
	}
}
