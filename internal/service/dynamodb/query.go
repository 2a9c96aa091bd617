package dynamodb

import (
	"bytes"
	"context"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	ddb "github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	"github.com/wharf-dev/wharf/internal/ddbitem"
	"github.com/wharf-dev/wharf/internal/service/dynamodb/expr"
	"github.com/wharf-dev/wharf/internal/store"
)

// project returns the attributes of item an index holds: the table's and the
// index's keys, plus the index's projection.
func (t *table) project(ix *index, item Item) Item {
	if ix == nil || ix.Projection == "ALL" {
		return item
	}
	out := Item{}
	for _, n := range append(append([]string{t.Hash, t.Range}, ix.keyNames()...), ix.NonKey...) {
		if v, ok := item[n]; ok && n != "" {
			out[n] = v
		}
	}
	return out
}

// readRequest is what Query and Scan share.
type readRequest struct {
	t          *table
	ix         *index
	limit      int
	forward    bool
	filter     expr.Cond
	proj       []expr.Path
	count      bool // Select COUNT
	projected  bool // return the index's projection only
	consistent bool
	start      []byte // store key to scan from (inclusive), nil for the beginning
	skip       []byte // ExclusiveStartKey's store key, not returned again
	// Query: the prefix to scan and the sort key condition.
	prefix   []byte
	rng      *expr.RangeCondition
	rangeKey string
	// Scan: parallel scan segment.
	segment, segments int
}

type readResult struct {
	items   storedItems
	count   int
	scanned int
	size    int
	lastKey Item
}

// run scans req's prefix in order, applying the key condition, filter,
// limit and 1 MB page size. Items are looked at in their stored form and
// decoded only for a filter or a projection.
func (s *Service) run(tx store.Tx, req *readRequest) (*readResult, error) {
	res := &readResult{}
	now := s.now()
	t := req.t
	itemPrefix := t.itemPrefix()
	reshape := req.proj != nil || (req.projected && req.ix != nil && req.ix.Projection != "ALL")
	var last []byte
	stopped := false
	visit := func(k, v []byte) (bool, error) {
		if req.skip != nil && bytes.Equal(k, req.skip) {
			return true, nil
		}
		raw := v
		if req.ix != nil {
			var err error
			if raw, err = tx.Get(append(append([]byte(nil), itemPrefix...), v...)); err != nil {
				return false, err
			}
			if raw == nil {
				return true, nil
			}
		}
		size, canonical, err := storedSize(raw)
		if err != nil {
			return false, err
		}
		if !canonical {
			// Not as encodeItem writes it (no wharf wrote such an item):
			// rewritten, so that what is answered is the item's encoding.
			item, err := decodeItem(raw)
			if err != nil {
				return false, err
			}
			raw, size = encodeItem(item), itemSize(item)
		}
		if t.hasTTL() {
			ttl, ok, err := storedAttr(raw, t.TTLAttr)
			if err != nil {
				return false, err
			}
			if ttlPassed(ttl, ok, now) {
				return true, nil
			}
		}
		if req.segments > 0 {
			hash, _, err := storedAttr(raw, t.Hash)
			if err != nil {
				return false, err
			}
			if segmentOf(hash, req.segments) != req.segment {
				return true, nil
			}
		}
		if req.rng != nil {
			sk, ok, err := storedAttr(raw, req.rangeKey)
			if err != nil {
				return false, err
			}
			if !ok || !req.rng.Match(sk) {
				// Keys are visited in order: before the range, skip; past it, stop.
				if beforeRange(req.rng, sk, req.forward) {
					return true, nil
				}
				return false, nil
			}
		}
		res.scanned++
		res.size += size
		last = raw
		var item Item // decoded, when a filter or a projection needs it
		if req.filter != nil || (reshape && !req.count) {
			if item, err = decodeItem(raw); err != nil {
				return false, err
			}
		}
		if req.filter == nil || expr.Eval(req.filter, item) {
			res.count++
			if !req.count {
				if reshape {
					out := item
					if req.projected {
						out = t.project(req.ix, out)
					}
					if req.proj != nil {
						out = expr.Project(out, req.proj)
					}
					res.items.add(encodeItem(out))
				} else {
					res.items.add(raw)
				}
			}
		}
		if (req.limit > 0 && res.scanned >= req.limit) || res.size >= maxPageSize {
			stopped = true
			return false, nil
		}
		return true, nil
	}
	var err error
	if req.forward {
		err = tx.Scan(req.prefix, req.start, visit)
	} else {
		err = tx.ScanReverse(req.prefix, req.start, visit)
	}
	if err != nil {
		return nil, err
	}
	if stopped && last != nil {
		item, err := decodeItem(last)
		if err != nil {
			return nil, err
		}
		res.lastKey = t.keyAttrs(item)
		if req.ix != nil {
			for _, name := range req.ix.keyNames() {
				res.lastKey[name] = item[name]
			}
		}
	}
	return res, nil
}

// segmentOf is the parallel scan segment of the items with hash key v.
func segmentOf(v Value, segments int) int {
	if n, err := normalizeValue(v, 0); err == nil {
		v = n
	}
	h := fnv.New32a()
	h.Write(appendKeyPart(nil, v))
	return int(h.Sum32() % uint32(segments))
}

// beforeRange reports whether a sort key that fails the range condition lies
// before the range in scan order (so the scan goes on) rather than past it.
func beforeRange(r *expr.RangeCondition, v Value, forward bool) bool {
	lo := r.Lo
	if r.Op == "<" || r.Op == "<=" {
		// The range starts at the beginning: a failing key is past its end
		// going forward, and before it going backward.
		return !forward
	}
	if r.Op == "begins_with" {
		var c int
		if v.S != nil && lo.S != nil {
			c = bytes.Compare([]byte(*v.S), []byte(*lo.S))
		} else {
			c = bytes.Compare(v.B, lo.B)
		}
		return (c < 0) == forward
	}
	// =, >, >=, BETWEEN: the range's low end is Lo.
	below := !expr.Eval(&expr.Compare{Op: ">=", L: &expr.ValueOperand{Value: v}, R: &expr.ValueOperand{Value: lo}}, nil)
	if r.Op == ">" {
		below = !expr.Eval(&expr.Compare{Op: ">", L: &expr.ValueOperand{Value: v}, R: &expr.ValueOperand{Value: lo}}, nil)
	}
	return below == forward
}

// startKey turns an ExclusiveStartKey into the store key to continue after.
func startKey(t *table, ix *index, esk map[string]Value) ([]byte, error) {
	if esk == nil {
		return nil, nil
	}
	k, err := normalizeItem(esk)
	if err != nil {
		return nil, err
	}
	bad := apierr.Validation("The provided starting key is invalid: The provided key element does not match the schema")
	// Only the table's and the index's key attributes may be there.
	for name := range k {
		if name != t.Hash && name != t.Range && (ix == nil || !ix.isKey(name)) {
			return nil, apierr.Validation("The provided starting key is invalid")
		}
	}
	tk, err := t.keyOf(t.keyAttrs(k), true)
	if err != nil {
		return nil, bad
	}
	if ix == nil {
		return append(t.itemPrefix(), tk...), nil
	}
	ik := t.indexKey(ix, k, tk)
	if ik == nil {
		return nil, bad
	}
	return ik, nil
}

// selectMode reads Select against the projection. An index query returns
// the index's projection by default (ALL_PROJECTED_ATTRIBUTES); a local
// index fetches any other attribute from the table, a global one cannot
// (Query docs, Select).
func selectMode(sel *string, proj []expr.Path, ix *index, t *table) (count, projected bool, err error) {
	switch awsapi.ToString(sel) {
	case "":
		if proj != nil {
			return false, false, checkProjected(ix, t, proj)
		}
		return false, ix != nil, nil
	case "COUNT":
		if proj != nil {
			return false, false, apierr.Validation("Cannot specify the AttributesToGet or ProjectionExpression when choosing to get only the COUNT")
		}
		return true, false, nil
	case "ALL_ATTRIBUTES":
		if proj != nil {
			return false, false, apierr.Validation("Cannot specify the AttributesToGet or ProjectionExpression when choosing to get ALL_ATTRIBUTES")
		}
		if ix != nil && ix.Global && ix.Projection != "ALL" {
			return false, false, invalid("Select type ALL_ATTRIBUTES is not supported for global secondary index %s because its projection type is not ALL", ix.Name)
		}
		return false, false, nil
	case "ALL_PROJECTED_ATTRIBUTES":
		if ix == nil {
			return false, false, apierr.Validation("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName")
		}
		if proj != nil {
			return false, false, apierr.Validation("Cannot specify the AttributesToGet or ProjectionExpression when choosing to get ALL_PROJECTED_ATTRIBUTES")
		}
		return false, true, nil
	case "SPECIFIC_ATTRIBUTES":
		if proj == nil {
			return false, false, apierr.Validation("SPECIFIC_ATTRIBUTES requires ProjectionExpression or AttributesToGet")
		}
		return false, false, checkProjected(ix, t, proj)
	}
	return false, false, apierr.Validation("1 validation error detected: Value '%s' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]", *sel)
}

// checkProjected rejects a projection of a global secondary index that
// names an attribute the index does not hold.
func checkProjected(ix *index, t *table, proj []expr.Path) error {
	if ix == nil || !ix.Global || ix.Projection == "ALL" {
		return nil
	}
	var missing []string
	for _, p := range proj {
		if !t.projects(ix, p[0].Name) && !slices.Contains(missing, p[0].Name) {
			missing = append(missing, p[0].Name)
		}
	}
	if len(missing) > 0 {
		return invalid("Global secondary index %s does not project [%s]", ix.Name, strings.Join(missing, ", "))
	}
	return nil
}

// projects reports whether ix holds attribute name of its items.
func (t *table) projects(ix *index, name string) bool {
	if ix.Projection == "ALL" || name == t.Hash || name == t.Range || ix.isKey(name) {
		return true
	}
	return slices.Contains(ix.NonKey, name)
}

func (s *Service) readIndex(t *table, name *string, consistent bool) (*index, error) {
	if name == nil {
		return nil, nil
	}
	ix := t.index(*name)
	if ix == nil {
		return nil, apierr.Validation("The table does not have the specified index: %s", *name)
	}
	if ix.Global && consistent {
		return nil, apierr.Validation("Consistent reads are not supported on global secondary indexes")
	}
	return ix, nil
}

func checkLimit(l *int32) (int, error) {
	if l == nil {
		return 0, nil
	}
	if *l < 1 {
		return 0, apierr.Validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1", *l)
	}
	return int(*l), nil
}

// Query reads the items of one partition in sort key order.
func (s *Service) Query(ctx context.Context, in *ddb.QueryInput) (*ddb.QueryOutput, error) {
	req, res, err := s.read(s.queryRequest(ctx, in))
	if err != nil {
		return nil, err
	}
	items, err := decodedOrNil(res, req)
	if err != nil {
		return nil, err
	}
	return &ddb.QueryOutput{
		Items: items, Count: awsapi.Int32(int32(res.count)), ScannedCount: awsapi.Int32(int32(res.scanned)),
		LastEvaluatedKey: res.lastKey,
		ConsumedCapacity: s.consumedBy(in.ReturnConsumedCapacity, req.t, readCapacity(req, res), true),
	}, nil
}

// QueryStored is Query answering its items in their stored form, which the
// JSON codec writes as it writes them decoded: the server binds it, and
// in-process callers use Query.
func (s *Service) QueryStored(ctx context.Context, in *ddb.QueryInput) (*QueryStoredOutput, error) {
	req, res, err := s.read(s.queryRequest(ctx, in))
	if err != nil {
		return nil, err
	}
	return &QueryStoredOutput{
		Items: storedOrNil(res, req), Count: awsapi.Int32(int32(res.count)), ScannedCount: awsapi.Int32(int32(res.scanned)),
		LastEvaluatedKey: res.lastKey,
		ConsumedCapacity: s.consumedBy(in.ReturnConsumedCapacity, req.t, readCapacity(req, res), true),
	}, nil
}

// read runs req, built by queryRequest or scanRequest (whose error it
// passes on), in one read transaction.
func (s *Service) read(req *readRequest, err error) (*readRequest, *readResult, error) {
	if err != nil {
		return nil, nil, err
	}
	var res *readResult
	err = s.st.View(func(tx store.Tx) error {
		res, err = s.run(tx, req)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return req, res, nil
}

// queryRequest checks a Query and makes it a readRequest.
func (s *Service) queryRequest(ctx context.Context, in *ddb.QueryInput) (*readRequest, error) {
	if err := checkConsumedMode(in.ReturnConsumedCapacity); err != nil {
		return nil, err
	}
	t, err := s.getTable(ctx, in.TableName)
	if err != nil {
		return nil, err
	}
	req := &readRequest{t: t, forward: in.ScanIndexForward == nil || *in.ScanIndexForward, consistent: awsapi.ToBool(in.ConsistentRead)}
	if req.ix, err = s.readIndex(t, in.IndexName, req.consistent); err != nil {
		return nil, err
	}
	if req.limit, err = checkLimit(in.Limit); err != nil {
		return nil, err
	}
	hashName, rangeName := t.Hash, t.Range
	if req.ix != nil {
		hashName, rangeName = req.ix.Hash, req.ix.Range
	}
	var kc *expr.KeyCondition
	var prefixRest []Value // further key parts of a multi-attribute key's prefix
	if in.KeyConditions != nil {
		if req.ix != nil && req.ix.composite() {
			return nil, apierr.Validation("KeyConditions cannot query index %s, whose keys have several attributes: use KeyConditionExpression", req.ix.Name)
		}
		if in.KeyConditionExpression != nil {
			return nil, apierr.Validation("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {KeyConditions} Expression parameters: {KeyConditionExpression}")
		}
		if kc, err = legacyKeyConditions(in.KeyConditions, hashName, rangeName); err != nil {
			return nil, err
		}
		if in.QueryFilter != nil && in.ProjectionExpression != nil {
			return nil, apierr.Validation("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {QueryFilter} Expression parameters: {ProjectionExpression}")
		}
		if in.FilterExpression != nil {
			// KeyConditions take a FilterExpression as they take a QueryFilter.
			if in.QueryFilter != nil || in.AttributesToGet != nil {
				return nil, apierr.Validation("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet, QueryFilter} Expression parameters: {FilterExpression}")
			}
			env, err := newEnv(in.ExpressionAttributeNames, in.ExpressionAttributeValues, true)
			if err != nil {
				return nil, err
			}
			if req.filter, err = expr.ParseCondition(env, expr.KindFilter, *in.FilterExpression); err != nil {
				return nil, err
			}
			if in.ProjectionExpression != nil {
				if req.proj, err = expr.ParseProjection(env, *in.ProjectionExpression); err != nil {
					return nil, err
				}
			}
			if err := env.CheckUnused(); err != nil {
				return nil, err
			}
		} else {
			if req.filter, err = legacyFilter(in.QueryFilter, in.ConditionalOperator); err != nil {
				return nil, err
			}
			if req.proj, err = projectionPaths(in.ProjectionExpression, in.ExpressionAttributeNames, in.AttributesToGet); err != nil {
				return nil, err
			}
		}
	} else {
		if in.KeyConditionExpression == nil {
			return nil, apierr.Validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
		}
		if in.QueryFilter != nil {
			return nil, apierr.Validation("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {QueryFilter} Expression parameters: {KeyConditionExpression}")
		}
		if in.AttributesToGet != nil {
			exprs := []string{}
			for _, e := range []struct {
				name string
				set  bool
			}{{"FilterExpression", in.FilterExpression != nil}, {"KeyConditionExpression", true}, {"ProjectionExpression", in.ProjectionExpression != nil}} {
				if e.set {
					exprs = append(exprs, e.name)
				}
			}
			return nil, apierr.Validation("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {%s}", strings.Join(exprs, ", "))
		}
		env, err := newEnv(in.ExpressionAttributeNames, in.ExpressionAttributeValues, true)
		if err != nil {
			return nil, err
		}
		if req.ix != nil && req.ix.composite() {
			ck, err := expr.ParseCompositeKeyCondition(env, *in.KeyConditionExpression, req.ix.Name, req.ix.hashKeys(), req.ix.rangeKeys())
			if err != nil {
				return nil, err
			}
			// The leading equalities are a key prefix; the next sort key
			// attribute, if constrained, is the range.
			names := req.ix.keyNames()
			vals := append(ck.Hash, ck.RangeEq...)
			for i, v := range vals {
				if expr.TypeOf(v) != t.Attrs[names[i]] {
					return nil, invalid("Condition parameter type does not match schema type")
				}
			}
			kc = &expr.KeyCondition{HashName: hashName, Hash: vals[0], Range: ck.Range}
			prefixRest = vals[1:]
			if len(vals) < len(names) {
				rangeName = names[len(vals)]
			}
		} else if kc, err = expr.ParseKeyCondition(env, *in.KeyConditionExpression, hashName, rangeName); err != nil {
			return nil, err
		}
		if in.FilterExpression != nil {
			if req.filter, err = expr.ParseCondition(env, expr.KindFilter, *in.FilterExpression); err != nil {
				return nil, err
			}
		}
		if in.ProjectionExpression != nil {
			if in.AttributesToGet != nil {
				return nil, apierr.Validation("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}")
			}
			if req.proj, err = expr.ParseProjection(env, *in.ProjectionExpression); err != nil {
				return nil, err
			}
		}
		if err := env.CheckUnused(); err != nil {
			return nil, err
		}
	}
	if req.filter != nil {
		what := "Filter Expression"
		if in.QueryFilter != nil {
			what = "QueryFilter"
		}
		keys := []string{hashName, rangeName}
		if req.ix != nil {
			keys = req.ix.keyNames()
		}
		for _, name := range expr.TopNames(req.filter) {
			if slices.Contains(keys, name) {
				return nil, invalid("%s can only contain non-primary key attributes: Primary key attribute: %s", what, name)
			}
		}
	}
	if got, want := expr.TypeOf(kc.Hash), t.Attrs[hashName]; got != want {
		return nil, invalid("Condition parameter type does not match schema type")
	}
	if kc.Range != nil {
		want := t.Attrs[rangeName]
		if expr.TypeOf(kc.Range.Lo) != want || (kc.Range.Op == "BETWEEN" && expr.TypeOf(kc.Range.Hi) != want) {
			return nil, invalid("Condition parameter type does not match schema type")
		}
		if kc.Range.Op == "begins_with" && want == "N" {
			return nil, apierr.Validation("Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N")
		}
	}
	if req.count, req.projected, err = selectMode(in.Select, req.proj, req.ix, t); err != nil {
		return nil, err
	}
	req.rng, req.rangeKey = kc.Range, rangeName
	if req.ix == nil {
		req.prefix = appendKeyPart(t.itemPrefix(), kc.Hash)
	} else {
		req.prefix = appendKeyPart(t.indexPrefix(req.ix), kc.Hash)
		for _, v := range prefixRest {
			req.prefix = appendKeyPart(req.prefix, v)
		}
	}
	if req.skip, err = startKey(t, req.ix, in.ExclusiveStartKey); err != nil {
		return nil, err
	}
	if req.skip != nil && !bytes.HasPrefix(req.skip, req.prefix) {
		return nil, apierr.Validation("The provided starting key is outside query boundaries based on provided conditions")
	}
	req.start = req.skip
	if req.start == nil {
		req.start = rangeStart(req)
	}
	return req, nil
}

// readCapacity is what a Query or Scan read: from the table, or from the
// index alone when it read one.
func readCapacity(req *readRequest, res *readResult) capacity {
	u := readUnits(res.size, req.consistent)
	if req.ix != nil {
		return capacity{index: map[string]float64{req.ix.Name: u}}
	}
	return capacity{table: u}
}

// rangeStart positions the first scan of a Query at its sort key range, so a
// query reads only the keys it returns.
func rangeStart(req *readRequest) []byte {
	r := req.rng
	if r == nil {
		return nil
	}
	if req.forward {
		switch r.Op {
		case "=", ">", ">=", "BETWEEN":
			return appendKeyPart(append([]byte(nil), req.prefix...), r.Lo)
		case "begins_with":
			return beginsWithPrefix(append([]byte(nil), req.prefix...), r.Lo)
		}
		return nil
	}
	hi := r.Lo
	switch r.Op {
	case "BETWEEN":
		hi = r.Hi
	case "=", "<", "<=":
	case "begins_with":
		// Everything that begins with the prefix sorts below prefix+0xff....
		b := beginsWithPrefix(append([]byte(nil), req.prefix...), r.Lo)
		return append(b, 0xff, 0xff, 0xff, 0xff)
	default:
		return nil
	}
	// Index entries continue past the sort key with the table key: reach past them.
	return append(appendKeyPart(append([]byte(nil), req.prefix...), hi), 0xff, 0xff, 0xff, 0xff)
}

// decodedOrNil is the Items of a Query or Scan answer: none for Select
// COUNT, else the items, an empty list when there are none.
func decodedOrNil(res *readResult, req *readRequest) ([]map[string]Value, error) {
	if req.count {
		return nil, nil
	}
	return res.items.decoded()
}

// storedOrNil is decodedOrNil in the items' stored form.
func storedOrNil(res *readResult, req *readRequest) []ddbitem.Raw {
	if req.count {
		return nil
	}
	return res.items.raws()
}

// Scan reads every item of a table or index, optionally one segment of a
// parallel scan.
func (s *Service) Scan(ctx context.Context, in *ddb.ScanInput) (*ddb.ScanOutput, error) {
	req, res, err := s.read(s.scanRequest(ctx, in))
	if err != nil {
		return nil, err
	}
	items, err := decodedOrNil(res, req)
	if err != nil {
		return nil, err
	}
	return &ddb.ScanOutput{
		Items: items, Count: awsapi.Int32(int32(res.count)), ScannedCount: awsapi.Int32(int32(res.scanned)),
		LastEvaluatedKey: res.lastKey,
		ConsumedCapacity: s.consumedBy(in.ReturnConsumedCapacity, req.t, readCapacity(req, res), true),
	}, nil
}

// ScanStored is Scan answering its items in their stored form, as
// QueryStored is Query.
func (s *Service) ScanStored(ctx context.Context, in *ddb.ScanInput) (*ScanStoredOutput, error) {
	req, res, err := s.read(s.scanRequest(ctx, in))
	if err != nil {
		return nil, err
	}
	return &ScanStoredOutput{
		Items: storedOrNil(res, req), Count: awsapi.Int32(int32(res.count)), ScannedCount: awsapi.Int32(int32(res.scanned)),
		LastEvaluatedKey: res.lastKey,
		ConsumedCapacity: s.consumedBy(in.ReturnConsumedCapacity, req.t, readCapacity(req, res), true),
	}, nil
}

// scanRequest checks a Scan and makes it a readRequest.
func (s *Service) scanRequest(ctx context.Context, in *ddb.ScanInput) (*readRequest, error) {
	if err := checkConsumedMode(in.ReturnConsumedCapacity); err != nil {
		return nil, err
	}
	t, err := s.getTable(ctx, in.TableName)
	if err != nil {
		return nil, err
	}
	req := &readRequest{t: t, forward: true, consistent: awsapi.ToBool(in.ConsistentRead)}
	if req.ix, err = s.readIndex(t, in.IndexName, req.consistent); err != nil {
		return nil, err
	}
	if req.limit, err = checkLimit(in.Limit); err != nil {
		return nil, err
	}
	if in.Segment != nil || in.TotalSegments != nil {
		if in.Segment == nil || in.TotalSegments == nil {
			return nil, apierr.Validation("The TotalSegments parameter is required but was not present in the request when Segment parameter is present")
		}
		if *in.TotalSegments < 1 || *in.TotalSegments > 1000000 {
			return nil, apierr.Validation("1 validation error detected: Value '%d' at 'totalSegments' failed to satisfy constraint: Member must have value less than or equal to 1000000", *in.TotalSegments)
		}
		if *in.Segment < 0 || *in.Segment >= *in.TotalSegments {
			return nil, apierr.Validation("The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: %d is not less than TotalSegments: %d", *in.Segment, *in.TotalSegments)
		}
		req.segment, req.segments = int(*in.Segment), int(*in.TotalSegments)
	}
	if in.ScanFilter != nil {
		if in.FilterExpression != nil {
			return nil, apierr.Validation("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {ScanFilter} Expression parameters: {FilterExpression}")
		}
		if in.ProjectionExpression != nil {
			return nil, apierr.Validation("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {ScanFilter} Expression parameters: {ProjectionExpression}")
		}
		if req.filter, err = legacyFilter(in.ScanFilter, in.ConditionalOperator); err != nil {
			return nil, err
		}
		if req.proj, err = projectionPaths(in.ProjectionExpression, in.ExpressionAttributeNames, in.AttributesToGet); err != nil {
			return nil, err
		}
	} else if in.AttributesToGet != nil {
		if req.proj, err = projectionPaths(in.ProjectionExpression, in.ExpressionAttributeNames, in.AttributesToGet); err != nil {
			return nil, err
		}
	} else {
		env, err := newEnv(in.ExpressionAttributeNames, in.ExpressionAttributeValues, in.FilterExpression != nil || in.ProjectionExpression != nil)
		if err != nil {
			return nil, err
		}
		if in.FilterExpression != nil {
			if req.filter, err = expr.ParseCondition(env, expr.KindFilter, *in.FilterExpression); err != nil {
				return nil, err
			}
		}
		if in.ProjectionExpression != nil {
			if req.proj, err = expr.ParseProjection(env, *in.ProjectionExpression); err != nil {
				return nil, err
			}
		}
		if err := env.CheckUnused(); err != nil {
			return nil, err
		}
	}
	if req.count, req.projected, err = selectMode(in.Select, req.proj, req.ix, t); err != nil {
		return nil, err
	}
	req.prefix = t.itemPrefix()
	if req.ix != nil {
		req.prefix = t.indexPrefix(req.ix)
	}
	if req.skip, err = startKey(t, req.ix, in.ExclusiveStartKey); err != nil {
		return nil, err
	}
	if req.skip != nil && req.segments > 0 && segmentOf(in.ExclusiveStartKey[t.Hash], req.segments) != req.segment {
		return nil, apierr.Validation("The provided Exclusive start key does not map to the provided Segment: TotalSegments: %d Segment: %d", req.segments, req.segment)
	}
	req.start = req.skip
	return req, nil
}
