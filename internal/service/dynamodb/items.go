package dynamodb

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	ddb "github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	"github.com/wharf-dev/wharf/internal/ddbitem"
	"github.com/wharf-dev/wharf/internal/service/dynamodb/expr"
	"github.com/wharf-dev/wharf/internal/store"
)

// newEnv checks a request's ExpressionAttributeNames and Values and returns
// the Env its expressions resolve against. hasExpr says whether the request
// carries any expression at all.
func newEnv(names map[string]string, values map[string]Value, hasExpr bool) (*expr.Env, error) {
	if names != nil && len(names) == 0 {
		return nil, apierr.Validation("ExpressionAttributeNames must not be empty")
	}
	if values != nil && len(values) == 0 {
		return nil, apierr.Validation("ExpressionAttributeValues must not be empty")
	}
	if !hasExpr {
		if names != nil {
			return nil, apierr.Validation("ExpressionAttributeNames can only be specified when using expressions")
		}
		if values != nil {
			return nil, apierr.Validation("ExpressionAttributeValues can only be specified when using expressions")
		}
	}
	for k, v := range names {
		if len(k) < 2 || k[0] != '#' {
			return nil, apierr.Validation("ExpressionAttributeNames contains invalid key: Syntax error; key: \"%s\"", k)
		}
		if why := checkAttrName(v); why != "" {
			return nil, apierr.Validation("ExpressionAttributeNames contains invalid value: %s for key %s", why, k)
		}
	}
	norm := make(map[string]Value, len(values))
	for k, v := range values {
		if len(k) < 2 || k[0] != ':' {
			return nil, apierr.Validation("ExpressionAttributeValues contains invalid key: Syntax error; key: \"%s\"", k)
		}
		n, err := normalizeValue(v, 0)
		if err != nil {
			if e := apierr.As(err); e != nil && e.Message == "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes" {
				return nil, apierr.Validation("ExpressionAttributeValues contains invalid value: %s for key %s", e.Message, k)
			}
			return nil, err
		}
		norm[k] = n
	}
	return expr.NewEnv(names, norm), nil
}

// writeOp is one item write: a put, an update, a delete or (in transactions)
// a condition check, with its condition.
type writeOp struct {
	t            *table
	kind         string // put, update, delete, check
	key          []byte
	keyItem      Item
	item         Item         // put: the new item
	update       *expr.Update // update
	legacy       map[string]ddb.AttributeValueUpdate
	cond         expr.Cond
	returnOnFail bool
	// insert marks a PartiQL INSERT, whose failed condition (the item
	// exists) is a DuplicateItemException.
	insert bool
	// sizeOnly says the caller needs of the replaced item only its size
	// (a PutItem without ReturnValues ALL_OLD): when the table has no
	// index and no stream to keep in step and no condition reads it, apply
	// then sizes the stored item without decoding it, returns no old item,
	// and sets oldSize and sized.
	sizeOnly bool
	oldSize  int
	sized    bool
}

// conditionFailed is the ConditionalCheckFailedException, with the item when
// ReturnValuesOnConditionCheckFailure asked for it.
func conditionFailed(old Item, withItem bool) *apierr.Error {
	e := ddb.ErrConditionalCheckFailedException("The conditional request failed")
	if withItem && old != nil {
		e.Fields = map[string]any{"Item": old}
	}
	return e
}

// apply runs op inside tx, returning the item before and after.
func (op *writeOp) apply(s *Service, tx store.Tx, now time.Time) (old, item Item, err error) {
	// The table was read before this transaction: make sure it is still the
	// same, so that an index added meanwhile is maintained too.
	raw, err := tx.Get(tableKey(op.t.Account, op.t.Region, op.t.Name))
	if err != nil {
		return nil, nil, err
	}
	if raw == nil {
		return nil, nil, tableNotFound(op.t.Name)
	}
	if !bytes.Equal(raw, op.t.raw) {
		cur := &table{raw: bytes.Clone(raw)}
		if err := json.Unmarshal(raw, cur); err != nil {
			return nil, nil, err
		}
		if cur.ID != op.t.ID {
			return nil, nil, tableNotFound(op.t.Name) // deleted and created again
		}
		op.t = cur
	}
	if op.sizeOnly && op.kind == "put" && op.cond == nil && len(op.t.Indexes) == 0 && op.t.currentStream() == nil {
		// Write capacity is the larger of the two items' sizes; nothing
		// else of the old item is used.
		raw, size, err := readStored(tx, op.t, op.key, now)
		if err != nil {
			return nil, nil, err
		}
		if raw == nil {
			size = 0
		}
		op.oldSize, op.sized = size, true
		return nil, op.item, s.writeItem(tx, op.t, op.key, nil, op.item, false)
	}
	old, err = readItem(tx, op.t, op.key, now)
	if err != nil {
		return nil, nil, err
	}
	if op.cond != nil && !expr.Eval(op.cond, old) {
		if op.insert {
			return old, nil, ddb.ErrDuplicateItemException("Duplicate primary key exists in table")
		}
		return old, nil, conditionFailed(old, op.returnOnFail)
	}
	switch op.kind {
	case "check":
		return old, old, nil
	case "delete":
		if old == nil {
			return nil, nil, nil
		}
	case "put":
		item = op.item
	case "update":
		if old == nil && op.removesOnly() {
			// Removing attributes of an item that does not exist leaves it
			// not existing; any other update creates it (UpdateItem docs).
			return nil, nil, nil
		}
		base := old
		if base == nil {
			base = op.keyItem
		}
		if op.update != nil {
			item, err = expr.Apply(op.update, base)
		} else {
			item, err = applyLegacyUpdates(op.legacy, base)
		}
		if err != nil {
			return old, nil, err
		}
		if item, err = normalizeItem(item); err != nil {
			return old, nil, err
		}
		if err := checkItemSize(item); err != nil {
			return old, nil, err
		}
		if err := op.t.checkIndexKeys(item); err != nil {
			return old, nil, err
		}
	}
	return old, item, s.writeItem(tx, op.t, op.key, old, item, false)
}

// removesOnly reports whether an update only removes: attributes (REMOVE,
// legacy DELETE without a value) or set elements (DELETE).
func (op *writeOp) removesOnly() bool {
	if u := op.update; u != nil {
		return len(u.Set) == 0 && len(u.Add) == 0 && len(u.Remove)+len(u.Delete) > 0
	}
	for _, a := range op.legacy {
		if awsapi.ToString(a.Action) != "DELETE" {
			return false
		}
	}
	return len(op.legacy) > 0
}

// consumed counts units of one table (named, or by ARN) for AWS/DynamoDB's
// consumed capacity metrics and renders its ConsumedCapacity.
func (s *Service) consumed(ctx context.Context, mode *string, table string, units float64, read bool) *ddb.ConsumedCapacity {
	s.countConsumed(ctx, table, units, read)
	return renderConsumed(mode, table, units, read)
}

// renderConsumed renders ConsumedCapacity for units of one table.
func renderConsumed(mode *string, table string, units float64, read bool) *ddb.ConsumedCapacity {
	m := awsapi.ToString(mode)
	if m != "TOTAL" && m != "INDEXES" {
		return nil
	}
	c := &ddb.ConsumedCapacity{TableName: awsapi.String(table), CapacityUnits: f64(units)}
	if read {
		c.ReadCapacityUnits = f64(units)
	} else {
		c.WriteCapacityUnits = f64(units)
	}
	if m == "INDEXES" {
		c.Table = &ddb.Capacity{CapacityUnits: f64(units)}
	}
	return c
}

// capacity is what one table's operations consumed: on the table, and on
// each of its indexes by name.
type capacity struct {
	table float64
	index map[string]float64
}

func (c *capacity) add(o capacity) {
	c.table += o.table
	for name, u := range o.index {
		if c.index == nil {
			c.index = map[string]float64{}
		}
		c.index[name] += u
	}
}

// writeCapacity is the cost of writing item over old in t: the table's
// units, and for each index that held or holds the item, the units of its
// projection of the larger of the two, twice when the item's index key
// changed ("Provisioned throughput considerations for Global Secondary
// Indexes": an index write costs what the index stores).
func (t *table) writeCapacity(old, item Item) capacity {
	c := capacity{table: writeUnits(old, item)}
	for i := range t.Indexes {
		ix := &t.Indexes[i]
		inOld := old != nil && t.indexKey(ix, old, nil) != nil
		inNew := item != nil && t.indexKey(ix, item, nil) != nil
		if !inOld && !inNew {
			continue
		}
		var po, pn Item
		if inOld {
			po = t.project(ix, old)
		}
		if inNew {
			pn = t.project(ix, item)
		}
		if c.index == nil {
			c.index = map[string]float64{}
		}
		if inOld && inNew && !bytes.Equal(t.indexKey(ix, old, nil), t.indexKey(ix, item, nil)) {
			// A changed index key is two index writes: the old entry's
			// delete and the new one's put.
			c.index[ix.Name] += writeUnits(po, nil) + writeUnits(nil, pn)
			continue
		}
		c.index[ix.Name] += writeUnits(po, pn)
	}
	return c
}

// consumedBy counts what t consumed for AWS/DynamoDB's metrics (a global
// secondary index's units under the index, a local one's under its table,
// whose throughput it shares) and renders its ConsumedCapacity: the total of
// the table and its indexes, and with INDEXES each part; a read of an index
// alone has no Table part.
func (s *Service) consumedBy(mode *string, t *table, c capacity, read bool) *ddb.ConsumedCapacity {
	onTable := c.table
	for name, u := range c.index {
		if ix := t.index(name); ix != nil && ix.Global {
			s.countCapacity(t.Account, t.Region, t.Name, name, u, read)
		} else {
			onTable += u
		}
	}
	s.countCapacity(t.Account, t.Region, t.Name, "", onTable, read)
	total := c.table
	for _, u := range c.index {
		total += u
	}
	out := renderConsumed(mode, t.Name, total, read)
	if out == nil || awsapi.ToString(mode) != "INDEXES" {
		return out
	}
	out.Table = nil
	if c.table > 0 {
		out.Table = &ddb.Capacity{CapacityUnits: f64(c.table)}
	}
	for name, u := range c.index {
		ix := t.index(name)
		if ix == nil {
			continue
		}
		cp := ddb.Capacity{CapacityUnits: f64(u)}
		if ix.Global {
			if out.GlobalSecondaryIndexes == nil {
				out.GlobalSecondaryIndexes = map[string]ddb.Capacity{}
			}
			out.GlobalSecondaryIndexes[name] = cp
		} else {
			if out.LocalSecondaryIndexes == nil {
				out.LocalSecondaryIndexes = map[string]ddb.Capacity{}
			}
			out.LocalSecondaryIndexes[name] = cp
		}
	}
	return out
}

// writeUnits: one unit per KB of the larger of the old and new item.
func writeUnits(old, item Item) float64 {
	return sizeUnits(max(itemSize(old), itemSize(item)))
}

// sizeUnits: one write unit per KB of the larger item's size, at least one.
func sizeUnits(size int) float64 {
	return math.Max(1, math.Ceil(float64(size)/1024))
}

// readUnits: one unit per 4 KB read, half for eventually consistent reads.
func readUnits(size int, consistent bool) float64 {
	u := math.Max(1, math.Ceil(float64(size)/4096))
	if !consistent {
		u /= 2
	}
	return u
}

// checkConsumedMode rejects a ReturnConsumedCapacity outside its enum,
// before the operation does anything.
func checkConsumedMode(mode *string) error {
	switch awsapi.ToString(mode) {
	case "", "NONE", "TOTAL", "INDEXES":
		return nil
	}
	return apierr.Validation("1 validation error detected: Value '%s' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]", *mode)
}

func checkReturnValues(rv *string, allowed ...string) error {
	if rv == nil {
		return nil
	}
	for _, a := range allowed {
		if *rv == a {
			return nil
		}
	}
	return apierr.Validation("Return values set to invalid value")
}

func checkReturnOnFail(rv *string) (bool, error) {
	switch awsapi.ToString(rv) {
	case "", "NONE":
		return false, nil
	case "ALL_OLD":
		return true, nil
	}
	return false, apierr.Validation("1 validation error detected: Value '%s' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]", *rv)
}

// itemKey normalizes a Key parameter and returns its store key.
func itemKey(t *table, key map[string]Value) (Item, []byte, error) {
	k, err := normalizeItem(key)
	if err != nil {
		return nil, nil, err
	}
	b, err := t.keyOf(k, true)
	return k, b, err
}

// PutItem writes a whole item, replacing any item with its key.
func (s *Service) PutItem(ctx context.Context, in *ddb.PutItemInput) (*ddb.PutItemOutput, error) {
	if err := checkConsumedMode(in.ReturnConsumedCapacity); err != nil {
		return nil, err
	}
	t, err := s.getTable(ctx, in.TableName)
	if err != nil {
		return nil, err
	}
	if err := checkReturnValues(in.ReturnValues, "NONE", "ALL_OLD"); err != nil {
		return nil, err
	}
	op, err := s.putOp(t, in.Item, in.ConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues, in.ReturnValuesOnConditionCheckFailure, in.Expected, in.ConditionalOperator)
	if err != nil {
		return nil, err
	}
	// The item replaced is decoded only when something needs more of it
	// than its size: ALL_OLD, a condition, an index or a stream.
	op.sizeOnly = awsapi.ToString(in.ReturnValues) != "ALL_OLD"
	var old Item
	err = s.st.Update(func(tx store.Tx) error {
		var err error
		op.sized = false // a retried transaction starts again
		old, _, err = op.apply(s, tx, s.now())
		return err
	})
	if err != nil {
		return nil, err
	}
	c := op.t.writeCapacity(old, op.item)
	if op.sized {
		c = capacity{table: sizeUnits(max(op.oldSize, itemSize(op.item)))}
	}
	out := &ddb.PutItemOutput{ConsumedCapacity: s.consumedBy(in.ReturnConsumedCapacity, op.t, c, false)}
	if awsapi.ToString(in.ReturnValues) == "ALL_OLD" && old != nil {
		out.Attributes = old
	}
	return out, nil
}

func (s *Service) putOp(t *table, raw map[string]Value, cond *string, names map[string]string, values map[string]Value, onFail *string, expected map[string]ddb.ExpectedAttributeValue, condOp *string) (*writeOp, error) {
	if raw == nil {
		return nil, apierr.Validation("1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null")
	}
	item, err := normalizeItem(raw)
	if err != nil {
		return nil, err
	}
	key, err := t.keyOf(item, false)
	if err != nil {
		return nil, err
	}
	if err := checkItemSize(item); err != nil {
		return nil, err
	}
	if err := t.checkIndexKeys(item); err != nil {
		return nil, err
	}
	op := &writeOp{t: t, kind: "put", key: key, item: item}
	if op.cond, err = condition(cond, names, values, expected, condOp); err != nil {
		return nil, err
	}
	if op.returnOnFail, err = checkReturnOnFail(onFail); err != nil {
		return nil, err
	}
	return op, nil
}

// condition parses a write's ConditionExpression (or legacy Expected) and
// checks that every name and value was used.
func condition(src *string, names map[string]string, values map[string]Value, expected map[string]ddb.ExpectedAttributeValue, condOp *string) (expr.Cond, error) {
	if expected != nil {
		if src != nil {
			return nil, apierr.Validation("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}")
		}
		return legacyExpected(expected, condOp)
	}
	if condOp != nil && src == nil {
		return legacyExpected(nil, condOp) // ConditionalOperator without Expected
	}
	env, err := newEnv(names, values, src != nil)
	if err != nil {
		return nil, err
	}
	if src == nil {
		return nil, nil
	}
	c, err := expr.ParseCondition(env, expr.KindCondition, *src)
	if err != nil {
		return nil, err
	}
	return c, env.CheckUnused()
}

// GetItem reads one item.
func (s *Service) GetItem(ctx context.Context, in *ddb.GetItemInput) (*ddb.GetItemOutput, error) {
	raw, cc, err := s.getItem(ctx, in)
	if err != nil {
		return nil, err
	}
	out := &ddb.GetItemOutput{ConsumedCapacity: cc}
	if raw != nil {
		if out.Item, err = decodeItem(raw); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// GetItemStored is GetItem answering the item in its stored form, as
// QueryStored is Query.
func (s *Service) GetItemStored(ctx context.Context, in *ddb.GetItemInput) (*GetItemStoredOutput, error) {
	raw, cc, err := s.getItem(ctx, in)
	if err != nil {
		return nil, err
	}
	return &GetItemStoredOutput{Item: raw, ConsumedCapacity: cc}, nil
}

// getItem is GetItem up to its answer: the item, projected, in its stored
// form (nil: none) and the capacity it consumed.
func (s *Service) getItem(ctx context.Context, in *ddb.GetItemInput) (ddbitem.Raw, *ddb.ConsumedCapacity, error) {
	if err := checkConsumedMode(in.ReturnConsumedCapacity); err != nil {
		return nil, nil, err
	}
	t, err := s.getTable(ctx, in.TableName)
	if err != nil {
		return nil, nil, err
	}
	_, key, err := itemKey(t, in.Key)
	if err != nil {
		return nil, nil, err
	}
	proj, err := projectionPaths(in.ProjectionExpression, in.ExpressionAttributeNames, in.AttributesToGet)
	if err != nil {
		return nil, nil, err
	}
	var raw []byte
	var size int
	err = s.st.View(func(tx store.Tx) error {
		raw, size, err = readStored(tx, t, key, s.now())
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	cc := s.consumed(ctx, in.ReturnConsumedCapacity, t.Name, readUnits(size, awsapi.ToBool(in.ConsistentRead)), true)
	if raw != nil && proj != nil {
		item, err := decodeItem(raw)
		if err != nil {
			return nil, nil, err
		}
		raw = encodeItem(expr.Project(item, proj))
	}
	return raw, cc, nil
}

// env0 refuses ExpressionAttributeNames in a request whose only projection
// is the legacy AttributesToGet.
func env0(names map[string]string) error {
	_, err := newEnv(names, nil, false)
	return err
}

// projectionPaths parses a ProjectionExpression (or legacy AttributesToGet);
// nil means every attribute.
func projectionPaths(src *string, names map[string]string, toGet []string) ([]expr.Path, error) {
	if toGet != nil {
		if src != nil {
			return nil, apierr.Validation("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}")
		}
		if len(toGet) == 0 {
			return nil, apierr.Validation("1 validation error detected: Value '[]' at 'attributesToGet' failed to satisfy constraint: Member must have length greater than or equal to 1")
		}
		paths := make([]expr.Path, len(toGet))
		seen := make(map[string]bool, len(toGet))
		for i, n := range toGet {
			if why := checkAttrName(n); why != "" {
				return nil, invalid("%s", why)
			}
			if seen[n] {
				return nil, invalid("Duplicate value in attribute name: %s", n)
			}
			seen[n] = true
			paths[i] = expr.Path{{Name: n}}
		}
		return paths, env0(names)
	}
	env, err := newEnv(names, nil, src != nil)
	if err != nil || src == nil {
		return nil, err
	}
	paths, err := expr.ParseProjection(env, *src)
	if err != nil {
		return nil, err
	}
	return paths, env.CheckUnused()
}

// UpdateItem edits an item's attributes, creating the item when it does not exist.
func (s *Service) UpdateItem(ctx context.Context, in *ddb.UpdateItemInput) (*ddb.UpdateItemOutput, error) {
	if err := checkConsumedMode(in.ReturnConsumedCapacity); err != nil {
		return nil, err
	}
	t, err := s.getTable(ctx, in.TableName)
	if err != nil {
		return nil, err
	}
	if err := checkReturnValues(in.ReturnValues, "NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"); err != nil {
		return nil, err
	}
	op, err := s.updateOp(t, in.Key, in.UpdateExpression, in.ConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues, in.ReturnValuesOnConditionCheckFailure, in.AttributeUpdates, in.Expected, in.ConditionalOperator)
	if err != nil {
		return nil, err
	}
	var old, item Item
	err = s.st.Update(func(tx store.Tx) error {
		var err error
		old, item, err = op.apply(s, tx, s.now())
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &ddb.UpdateItemOutput{ConsumedCapacity: s.consumedBy(in.ReturnConsumedCapacity, op.t, op.t.writeCapacity(old, item), false)}
	var attrs Item
	switch awsapi.ToString(in.ReturnValues) {
	case "ALL_OLD":
		attrs = old
	case "ALL_NEW":
		attrs = item
	case "UPDATED_OLD":
		attrs = expr.Project(old, op.updatedPaths())
	case "UPDATED_NEW":
		attrs = expr.Project(item, op.updatedPaths())
	}
	if len(attrs) > 0 {
		out.Attributes = attrs
	}
	return out, nil
}

// updatedPaths are the paths an update's actions name.
func (op *writeOp) updatedPaths() []expr.Path {
	var paths []expr.Path
	if u := op.update; u != nil {
		for _, a := range u.Set {
			paths = append(paths, a.Path)
		}
		paths = append(paths, u.Remove...)
		for _, a := range u.Add {
			paths = append(paths, a.Path)
		}
		for _, a := range u.Delete {
			paths = append(paths, a.Path)
		}
	}
	for name := range op.legacy {
		paths = append(paths, expr.Path{{Name: name}})
	}
	return paths
}

func (s *Service) updateOp(t *table, rawKey map[string]Value, update, cond *string, names map[string]string, values map[string]Value, onFail *string, legacy map[string]ddb.AttributeValueUpdate, expected map[string]ddb.ExpectedAttributeValue, condOp *string) (*writeOp, error) {
	keyItem, key, err := itemKey(t, rawKey)
	if err != nil {
		return nil, err
	}
	op := &writeOp{t: t, kind: "update", key: key, keyItem: keyItem}
	if op.returnOnFail, err = checkReturnOnFail(onFail); err != nil {
		return nil, err
	}
	if legacy != nil || expected != nil {
		if update != nil || cond != nil {
			return nil, apierr.Validation("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributeUpdates, Expected} Expression parameters: {UpdateExpression, ConditionExpression}")
		}
		if op.cond, err = legacyExpected(expected, condOp); err != nil {
			return nil, err
		}
		if _, err := newEnv(names, values, false); err != nil {
			return nil, err // names or values without an expression to use them
		}
		for name := range legacy {
			if why := checkAttrName(name); why != "" {
				return nil, invalid("%s", why)
			}
			if name == t.Hash || name == t.Range {
				return nil, invalid("Cannot update attribute %s. This attribute is part of the key", name)
			}
		}
		op.legacy = legacy
		if op.legacy == nil {
			op.legacy = map[string]ddb.AttributeValueUpdate{}
		}
		return op, nil
	}
	env, err := newEnv(names, values, update != nil || cond != nil)
	if err != nil {
		return nil, err
	}
	if update != nil {
		if op.update, err = expr.ParseUpdate(env, *update); err != nil {
			return nil, err
		}
		for _, p := range op.updatedPaths() {
			if p[0].Name == t.Hash || p[0].Name == t.Range {
				return nil, invalid("Cannot update attribute %s. This attribute is part of the key", p[0].Name)
			}
		}
	} else {
		op.update = &expr.Update{}
	}
	if cond != nil {
		if op.cond, err = expr.ParseCondition(env, expr.KindCondition, *cond); err != nil {
			return nil, err
		}
	}
	return op, env.CheckUnused()
}

// DeleteItem deletes one item.
func (s *Service) DeleteItem(ctx context.Context, in *ddb.DeleteItemInput) (*ddb.DeleteItemOutput, error) {
	if err := checkConsumedMode(in.ReturnConsumedCapacity); err != nil {
		return nil, err
	}
	t, err := s.getTable(ctx, in.TableName)
	if err != nil {
		return nil, err
	}
	if err := checkReturnValues(in.ReturnValues, "NONE", "ALL_OLD"); err != nil {
		return nil, err
	}
	op, err := s.deleteOp(t, in.Key, in.ConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues, in.ReturnValuesOnConditionCheckFailure, in.Expected, in.ConditionalOperator)
	if err != nil {
		return nil, err
	}
	var old Item
	err = s.st.Update(func(tx store.Tx) error {
		var err error
		old, _, err = op.apply(s, tx, s.now())
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &ddb.DeleteItemOutput{ConsumedCapacity: s.consumedBy(in.ReturnConsumedCapacity, op.t, op.t.writeCapacity(old, nil), false)}
	if awsapi.ToString(in.ReturnValues) == "ALL_OLD" && old != nil {
		out.Attributes = old
	}
	return out, nil
}

func (s *Service) deleteOp(t *table, rawKey map[string]Value, cond *string, names map[string]string, values map[string]Value, onFail *string, expected map[string]ddb.ExpectedAttributeValue, condOp *string) (*writeOp, error) {
	keyItem, key, err := itemKey(t, rawKey)
	if err != nil {
		return nil, err
	}
	op := &writeOp{t: t, kind: "delete", key: key, keyItem: keyItem}
	if op.cond, err = condition(cond, names, values, expected, condOp); err != nil {
		return nil, err
	}
	if op.returnOnFail, err = checkReturnOnFail(onFail); err != nil {
		return nil, err
	}
	return op, nil
}

func f64(v float64) *float64 { return &v }
