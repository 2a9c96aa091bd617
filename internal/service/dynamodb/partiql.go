package dynamodb

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	ddb "github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	"github.com/wharf-dev/wharf/internal/service/dynamodb/expr"
	"github.com/wharf-dev/wharf/internal/service/dynamodb/partiql"
	"github.com/wharf-dev/wharf/internal/store"
)

// PartiQL batch limits ("Running batch operations with PartiQL for DynamoDB",
// "Performing transactions with PartiQL for DynamoDB").
const (
	maxBatchStatements = 25
)

// ExecuteStatement runs one PartiQL statement: a SELECT (a Query when its
// WHERE clause fixes the partition key, a Scan otherwise), or an INSERT,
// UPDATE or DELETE of one item.
func (s *Service) ExecuteStatement(ctx context.Context, in *ddb.ExecuteStatementInput) (*ddb.ExecuteStatementOutput, error) {
	if err := checkConsumedMode(in.ReturnConsumedCapacity); err != nil {
		return nil, err
	}
	onFail, err := checkReturnOnFail(in.ReturnValuesOnConditionCheckFailure)
	if err != nil {
		return nil, err
	}
	st, err := parseStatement(in.Statement, in.Parameters)
	if err != nil {
		return nil, err
	}
	if st.Kind == partiql.Exists {
		return nil, apierr.Validation("EXISTS is supported only in ExecuteTransaction")
	}
	t, err := s.getTable(ctx, &st.Table)
	if err != nil {
		return nil, err
	}
	if st.Kind == partiql.Select {
		return s.partiqlSelect(t, st, in)
	}
	op, err := partiqlWrite(t, st, onFail)
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
	out := &ddb.ExecuteStatementOutput{ConsumedCapacity: s.consumed(ctx, in.ReturnConsumedCapacity, t.Name, writeUnits(old, item), false)}
	if st.Returning != "" {
		out.Items = []map[string]Value{}
		if r := returning(st.Returning, op, old, item); len(r) > 0 {
			out.Items = append(out.Items, r)
		}
	}
	return out, nil
}

// parseStatement parses a statement after checking its parameters as every
// attribute value is checked.
func parseStatement(src *string, params []Value) (*partiql.Statement, error) {
	if src == nil {
		return nil, apierr.Validation("1 validation error detected: Value null at 'statement' failed to satisfy constraint: Member must not be null")
	}
	if params != nil && len(params) == 0 {
		return nil, apierr.Validation("1 validation error detected: Value '[]' at 'parameters' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	norm := make([]Value, len(params))
	for i, p := range params {
		v, err := normalizeValue(p, 0)
		if err != nil {
			return nil, err
		}
		norm[i] = v
	}
	return partiql.Parse(*src, norm)
}

// returning renders a RETURNING clause as UpdateItem renders ReturnValues.
func returning(which string, op *writeOp, old, item Item) Item {
	switch which {
	case "ALL_OLD":
		return old
	case "ALL_NEW":
		return item
	case "UPDATED_OLD":
		return expr.Project(old, op.updatedPaths())
	case "UPDATED_NEW":
		return expr.Project(item, op.updatedPaths())
	}
	return nil
}

// conjuncts flattens the top-level ANDs of c.
func conjuncts(c expr.Cond) []expr.Cond {
	if a, ok := c.(*expr.And); ok {
		return append(conjuncts(a.L), conjuncts(a.R)...)
	}
	if c == nil {
		return nil
	}
	return []expr.Cond{c}
}

func joinAnd(cs []expr.Cond) expr.Cond {
	var c expr.Cond
	for _, x := range cs {
		if x == nil {
			continue
		}
		if c == nil {
			c = x
		} else {
			c = &expr.And{L: c, R: x}
		}
	}
	return c
}

// keyEquality returns the attribute and value of a conjunct of the form
// name = value (or value = name) on a top-level attribute.
func keyEquality(c expr.Cond) (string, Value, bool) {
	cmp, ok := c.(*expr.Compare)
	if !ok || cmp.Op != "=" {
		return "", Value{}, false
	}
	l, r := cmp.L, cmp.R
	if _, ok := l.(*expr.ValueOperand); ok {
		l, r = r, l
	}
	p, ok := l.(*expr.PathOperand)
	v, ok2 := r.(*expr.ValueOperand)
	if !ok || !ok2 || len(p.Path) != 1 || p.Path[0].IsIndex {
		return "", Value{}, false
	}
	return p.Path[0].Name, v.Value, true
}

// splitKey takes the equalities on the table's key attributes out of where,
// and returns the key and the rest of the clause, which is a condition on
// the item. UPDATE, DELETE and single-item reads must name the whole key.
func splitKey(t *table, where expr.Cond) (map[string]Value, expr.Cond, error) {
	key := map[string]Value{}
	var rest []expr.Cond
	for _, c := range conjuncts(where) {
		if name, v, ok := keyEquality(c); ok && (name == t.Hash || name == t.Range) {
			if _, dup := key[name]; !dup {
				key[name] = v
				continue
			}
		}
		rest = append(rest, c)
	}
	if _, ok := key[t.Hash]; !ok {
		return nil, nil, apierr.Validation("Where clause does not contain a mandatory equality on all key attributes")
	}
	if _, ok := key[t.Range]; t.Range != "" && !ok {
		return nil, nil, apierr.Validation("Where clause does not contain a mandatory equality on all key attributes")
	}
	return key, joinAnd(rest), nil
}

func exists(name string) expr.Cond {
	return &expr.Func{Name: "attribute_exists", Args: []expr.Operand{attr(name)}}
}

// partiqlWrite turns an INSERT, UPDATE, DELETE or EXISTS into a write op.
func partiqlWrite(t *table, st *partiql.Statement, onFail bool) (*writeOp, error) {
	var op *writeOp
	switch st.Kind {
	case partiql.Insert:
		item, err := normalizeItem(st.Item)
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
		// INSERT never replaces an item (PartiQL insert statements).
		op = &writeOp{t: t, kind: "put", key: key, item: item, insert: true,
			cond: &expr.Func{Name: "attribute_not_exists", Args: []expr.Operand{attr(t.Hash)}}}
	case partiql.Update, partiql.Delete, partiql.Exists:
		if st.Kind == partiql.Delete && st.Returning != "" && st.Returning != "ALL_OLD" {
			return nil, apierr.Validation("Invalid returning clause: only RETURNING ALL OLD * is allowed in DELETE statements")
		}
		rawKey, rest, err := splitKey(t, st.Where)
		if err != nil {
			return nil, err
		}
		keyItem, key, err := itemKey(t, rawKey)
		if err != nil {
			return nil, err
		}
		op = &writeOp{t: t, kind: "delete", key: key, keyItem: keyItem, cond: rest}
		switch st.Kind {
		case partiql.Update:
			// UPDATE changes an existing item; it never creates one.
			op.kind, op.update = "update", st.Update
			op.cond = joinAnd([]expr.Cond{exists(t.Hash), rest})
			for _, p := range op.updatedPaths() {
				if p[0].Name == t.Hash || p[0].Name == t.Range {
					return nil, invalid("Cannot update attribute %s. This attribute is part of the key", p[0].Name)
				}
			}
		case partiql.Exists:
			op.kind = "check"
			op.cond = joinAnd([]expr.Cond{exists(t.Hash), rest})
		}
	default:
		return nil, apierr.Validation("%s is not a write statement", st.Kind)
	}
	op.returnOnFail = onFail
	return op, nil
}

// partiqlSelect runs a SELECT as a Query when the WHERE clause has an
// equality on the partition key of the table or index it reads, and as a
// Scan otherwise; the whole clause filters what either reads.
func (s *Service) partiqlSelect(t *table, st *partiql.Statement, in *ddb.ExecuteStatementInput) (*ddb.ExecuteStatementOutput, error) {
	req := &readRequest{t: t, forward: true, consistent: awsapi.ToBool(in.ConsistentRead), filter: st.Where}
	var err error
	if st.Index != "" {
		if req.ix, err = s.readIndex(t, &st.Index, req.consistent); err != nil {
			return nil, err
		}
		req.projected = true
	}
	if req.limit, err = checkLimit(in.Limit); err != nil {
		return nil, err
	}
	hashName, rangeName := t.Hash, t.Range
	if req.ix != nil {
		hashName, rangeName = req.ix.Hash, req.ix.Range
	}
	req.prefix = t.itemPrefix()
	if req.ix != nil {
		req.prefix = t.indexPrefix(req.ix)
	}
	query := false
	if req.ix == nil || !req.ix.composite() {
		for _, c := range conjuncts(st.Where) {
			if name, v, ok := keyEquality(c); ok && name == hashName && expr.TypeOf(v) == t.Attrs[hashName] {
				req.prefix = appendKeyPart(req.prefix, v)
				query = true
				break
			}
		}
	}
	for i, o := range st.OrderBy {
		if !query {
			return nil, apierr.Validation("ORDER BY is supported only when the WHERE clause has an equality on the partition key")
		}
		if i > 0 || o.Name != rangeName {
			return nil, apierr.Validation("ORDER BY is supported only on the sort key: %s", rangeName)
		}
		req.forward = !o.Desc
	}
	if tok := awsapi.ToString(in.NextToken); tok != "" {
		raw, err := base64.StdEncoding.DecodeString(tok)
		var esk Item
		if err == nil {
			esk, err = decodeItem(raw)
		}
		if err != nil {
			return nil, apierr.Validation("Invalid NextToken")
		}
		if req.skip, err = startKey(t, req.ix, esk); err != nil || !hasPrefix(req.skip, req.prefix) {
			return nil, apierr.Validation("Invalid NextToken")
		}
		req.start = req.skip
	}
	var res *readResult
	err = s.st.View(func(tx store.Tx) error {
		res, err = s.run(tx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	items, err := res.items.decoded()
	if err != nil {
		return nil, err
	}
	out := &ddb.ExecuteStatementOutput{
		Items:            make([]map[string]Value, 0, len(items)),
		ConsumedCapacity: s.consumedBy(in.ReturnConsumedCapacity, t, capacity{table: readUnits(res.size, req.consistent)}, true),
	}
	for _, item := range items {
		out.Items = append(out.Items, projectPartiQL(item, st.Projection))
	}
	if res.lastKey != nil {
		out.NextToken = awsapi.String(base64.StdEncoding.EncodeToString(encodeItem(res.lastKey)))
	}
	return out, nil
}

func hasPrefix(b, prefix []byte) bool { return strings.HasPrefix(string(b), string(prefix)) }

// projectPartiQL applies a SELECT list: as in SQL, a nested path's value is
// named by the path's last attribute name (SELECT a.b gives b).
func projectPartiQL(item Item, paths []expr.Path) Item {
	if paths == nil {
		return item
	}
	out := Item{}
	var nested []expr.Path
	for _, p := range paths {
		last := p[len(p)-1]
		if len(p) == 1 || last.IsIndex {
			nested = append(nested, p)
			continue
		}
		if v, ok := expr.Get(item, p); ok {
			out[last.Name] = v
		}
	}
	for k, v := range expr.Project(item, nested) {
		out[k] = v
	}
	return out
}

// batchCode is the BatchStatementError code of an operation's error.
func batchCode(e *apierr.Error) string {
	switch e.Code {
	case "ValidationException":
		return "ValidationError"
	case "ResourceNotFoundException":
		return "ResourceNotFound"
	case "ConditionalCheckFailedException":
		return "ConditionalCheckFailed"
	case "DuplicateItemException":
		return "DuplicateItem"
	}
	return "InternalServerError"
}

// BatchExecuteStatement runs up to 25 statements, all reads of one item or
// all writes, each on its own: one statement's failure is reported in its
// response and does not stop the others.
func (s *Service) BatchExecuteStatement(ctx context.Context, in *ddb.BatchExecuteStatementInput) (*ddb.BatchExecuteStatementOutput, error) {
	if err := checkConsumedMode(in.ReturnConsumedCapacity); err != nil {
		return nil, err
	}
	n := len(in.Statements)
	if n == 0 || n > maxBatchStatements {
		return nil, apierr.Validation("1 validation error detected: Value '%d' at 'statements' failed to satisfy constraint: Member must have length less than or equal to 25 and greater than or equal to 1", n)
	}
	type parsed struct {
		st  *partiql.Statement
		err error
	}
	stmts := make([]parsed, n)
	reads, writes := 0, 0
	for i, r := range in.Statements {
		st, err := parseStatement(r.Statement, r.Parameters)
		stmts[i] = parsed{st, err}
		if err != nil {
			continue
		}
		switch st.Kind {
		case partiql.Select:
			reads++
		case partiql.Exists:
			stmts[i].err = apierr.Validation("EXISTS is supported only in ExecuteTransaction")
		default:
			writes++
		}
	}
	if reads > 0 && writes > 0 {
		return nil, apierr.Validation("Statements in a batch must all be reads or all be writes")
	}
	out := &ddb.BatchExecuteStatementOutput{Responses: make([]ddb.BatchStatementResponse, n)}
	units := map[string]float64{}
	for i, p := range stmts {
		resp := &out.Responses[i]
		err := p.err
		if err == nil {
			resp.TableName = awsapi.String(p.st.Table)
			var u float64
			u, err = s.batchStatement(ctx, p.st, in.Statements[i], resp)
			units[p.st.Table] += u
		}
		if err != nil {
			e := apierr.As(err)
			if e == nil {
				return nil, err
			}
			resp.Error = &ddb.BatchStatementError{Code: awsapi.String(batchCode(e)), Message: awsapi.String(e.Message)}
			if item, ok := e.Fields["Item"].(Item); ok {
				resp.Error.Item = item
			}
		}
	}
	for name, u := range units {
		if c := s.consumed(ctx, in.ReturnConsumedCapacity, name, u, reads > 0); c != nil && u > 0 {
			out.ConsumedCapacity = append(out.ConsumedCapacity, *c)
		}
	}
	return out, nil
}

// batchStatement runs one statement of a batch into resp and returns the
// units it consumed.
func (s *Service) batchStatement(ctx context.Context, st *partiql.Statement, r ddb.BatchStatementRequest, resp *ddb.BatchStatementResponse) (float64, error) {
	t, err := s.getTable(ctx, &st.Table)
	if err != nil {
		return 0, err
	}
	if st.Kind == partiql.Select {
		consistent := awsapi.ToBool(r.ConsistentRead)
		item, err := s.partiqlGet(t, st, consistent)
		if err != nil {
			return 0, err
		}
		if item != nil {
			resp.Item = projectPartiQL(item, st.Projection)
		}
		return readUnits(itemSize(item), consistent), nil
	}
	onFail, err := checkReturnOnFail(r.ReturnValuesOnConditionCheckFailure)
	if err != nil {
		return 0, err
	}
	op, err := partiqlWrite(t, st, onFail)
	if err != nil {
		return 0, err
	}
	var old, item Item
	err = s.st.Update(func(tx store.Tx) error {
		var err error
		old, item, err = op.apply(s, tx, s.now())
		return err
	})
	if err != nil {
		return 0, err
	}
	return writeUnits(old, item), nil
}

// partiqlGet reads the one item a SELECT of a batch or transaction names by
// its whole key; the rest of the WHERE clause must hold for it to be
// returned.
func (s *Service) partiqlGet(t *table, st *partiql.Statement, _ bool) (Item, error) {
	if st.Index != "" {
		return nil, apierr.Validation("Batch and transaction reads cannot read an index")
	}
	rawKey, rest, err := splitKey(t, st.Where)
	if err != nil {
		return nil, err
	}
	_, key, err := itemKey(t, rawKey)
	if err != nil {
		return nil, err
	}
	var item Item
	err = s.st.View(func(tx store.Tx) error {
		item, err = readItem(tx, t, key, s.now())
		return err
	})
	if err != nil || item == nil || (rest != nil && !expr.Eval(rest, item)) {
		return nil, err
	}
	return item, nil
}

// ExecuteTransaction runs up to 100 statements all or nothing: all SELECTs
// of one item each, read from one snapshot, or all writes (INSERT, UPDATE,
// DELETE, and EXISTS condition checks), applied as TransactWriteItems
// applies its items.
func (s *Service) ExecuteTransaction(ctx context.Context, in *ddb.ExecuteTransactionInput) (*ddb.ExecuteTransactionOutput, error) {
	if err := checkConsumedMode(in.ReturnConsumedCapacity); err != nil {
		return nil, err
	}
	n := len(in.TransactStatements)
	if n == 0 || n > maxTransactItems {
		return nil, apierr.Validation("1 validation error detected: Value '%d' at 'transactStatements' failed to satisfy constraint: Member must have length less than or equal to 100 and greater than or equal to 1", n)
	}
	stmts := make([]*partiql.Statement, n)
	tables := make([]*table, n)
	reads := 0
	for i, r := range in.TransactStatements {
		st, err := parseStatement(r.Statement, r.Parameters)
		if err != nil {
			return nil, err
		}
		if tables[i], err = s.getTable(ctx, &st.Table); err != nil {
			return nil, err
		}
		stmts[i] = st
		if st.Kind == partiql.Select {
			reads++
		}
	}
	if reads > 0 && reads < n {
		return nil, apierr.Validation("Transactions must consist of either read statements or write statements, not both")
	}
	out := &ddb.ExecuteTransactionOutput{}
	units := map[string]float64{}
	if reads > 0 {
		out.Responses = make([]ddb.ItemResponse, n)
		for i, st := range stmts {
			item, err := s.partiqlGet(tables[i], st, true)
			if err != nil {
				return nil, err
			}
			units[st.Table] += 2 * readUnits(itemSize(item), true)
			if item != nil {
				out.Responses[i].Item = projectPartiQL(item, st.Projection)
			}
		}
	} else {
		ops := make([]*writeOp, n)
		seen := map[string]bool{}
		for i, st := range stmts {
			onFail, err := checkReturnOnFail(in.TransactStatements[i].ReturnValuesOnConditionCheckFailure)
			if err != nil {
				return nil, err
			}
			if ops[i], err = partiqlWrite(tables[i], st, onFail); err != nil {
				return nil, err
			}
			id := ops[i].t.ID + "/" + string(ops[i].key)
			if seen[id] {
				return nil, apierr.Validation("Transaction request cannot include multiple operations on one item")
			}
			seen[id] = true
		}
		var tokKey []byte
		var hash string
		if tok := awsapi.ToString(in.ClientRequestToken); tok != "" {
			account, region := caller(ctx)
			tokKey = tokenKey(account, region, "partiql/"+tok)
			hash = requestDigest(in.TransactStatements)
		}
		var err error
		if units, err = s.commitTransaction(ops, tokKey, hash); err != nil {
			return nil, err
		}
	}
	for name, u := range units {
		if c := s.consumed(ctx, in.ReturnConsumedCapacity, name, u, reads > 0); c != nil {
			out.ConsumedCapacity = append(out.ConsumedCapacity, *c)
		}
	}
	return out, nil
}

// requestDigest identifies a request's content for its idempotency token.
func requestDigest(v any) string {
	raw, _ := json.Marshal(v)
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}
