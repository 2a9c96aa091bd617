package dynamodb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	ddb "github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	"github.com/wharf-dev/wharf/internal/service/dynamodb/expr"
	"github.com/wharf-dev/wharf/internal/store"
)

// Batch and transaction limits ("Service, account, and table quotas").
const (
	maxBatchGet      = 100
	maxBatchWrite    = 25
	maxTransactItems = 100
	tokenLifetime    = 10 * time.Minute
	// maxTransactPayload bounds what a transaction writes: the items it
	// puts and the values it sends, not the items it deletes
	// (TransactWriteItems: "the aggregate size of the items in the
	// transaction cannot exceed 4 MB").
	maxTransactPayload = 4 << 20
)

// itemValidation reports whether e is about an item the table cannot take
// (its key's types or presence, its size), which DynamoDB reports as a
// transaction's cancellation reason rather than as the request's error.
func itemValidation(e *apierr.Error) bool {
	if e.Code != "ValidationException" {
		return false
	}
	for _, prefix := range []string{
		"One or more parameter values were invalid: Type mismatch for key",
		"One or more parameter values were invalid: Missing the key",
		"The provided key element does not match the schema",
		"Item size has exceeded the maximum allowed size",
	} {
		if strings.HasPrefix(e.Message, prefix) {
			return true
		}
	}
	return false
}

// cancelledAt is the TransactionCanceledException of a transaction of n
// actions whose action i failed validation.
func cancelledAt(i, n int, msg string) error {
	reasons := make([]ddb.CancellationReason, n)
	codes := make([]string, n)
	for j := range reasons {
		reasons[j] = ddb.CancellationReason{Code: awsapi.String("None")}
		codes[j] = "None"
	}
	reasons[i] = ddb.CancellationReason{Code: awsapi.String("ValidationError"), Message: awsapi.String(msg)}
	codes[i] = "ValidationError"
	return ddb.ErrTransactionCanceledException("Transaction cancelled, please refer cancellation reasons for specific reasons [%s]", strings.Join(codes, ", ")).WithFields(map[string]any{"CancellationReasons": reasons})
}

// transactionPayload is the size of what a transaction writes: the items
// it puts, and the keys and values of its other actions.
func transactionPayload(ops []*writeOp, in *ddb.TransactWriteItemsInput) int {
	size := 0
	for _, op := range ops {
		size += itemSize(op.item) + itemSize(op.keyItem)
	}
	for _, ti := range in.TransactItems {
		if u := ti.Update; u != nil {
			size += itemSize(u.ExpressionAttributeValues)
		}
	}
	return size
}

// BatchGetItem reads up to 100 items from one or more tables.
func (s *Service) BatchGetItem(ctx context.Context, in *ddb.BatchGetItemInput) (*ddb.BatchGetItemOutput, error) {
	if err := checkConsumedMode(in.ReturnConsumedCapacity); err != nil {
		return nil, err
	}
	if len(in.RequestItems) == 0 {
		return nil, apierr.Validation("1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	total := 0
	for _, ka := range in.RequestItems {
		total += len(ka.Keys)
	}
	if total > maxBatchGet {
		return nil, apierr.Validation("Too many items requested for the BatchGetItem call")
	}
	type request struct {
		t          *table
		keys       [][]byte
		proj       []expr.Path
		consistent bool
	}
	names := make([]string, 0, len(in.RequestItems))
	for n := range in.RequestItems {
		names = append(names, n)
	}
	sort.Strings(names)
	reqs := make([]request, 0, len(names))
	for _, name := range names {
		ka := in.RequestItems[name]
		t, err := s.getTable(ctx, &name)
		if err != nil {
			return nil, err
		}
		if len(ka.Keys) == 0 {
			return nil, apierr.Validation("1 validation error detected: Value '[]' at 'requestItems.%s.member.keys' failed to satisfy constraint: Member must have length greater than or equal to 1", name)
		}
		r := request{t: t, consistent: awsapi.ToBool(ka.ConsistentRead)}
		seen := map[string]bool{}
		for _, k := range ka.Keys {
			_, key, err := itemKey(t, k)
			if err != nil {
				return nil, err
			}
			if seen[string(key)] {
				return nil, apierr.Validation("Provided list of item keys contains duplicates")
			}
			seen[string(key)] = true
			r.keys = append(r.keys, key)
		}
		if r.proj, err = projectionPaths(ka.ProjectionExpression, ka.ExpressionAttributeNames, ka.AttributesToGet); err != nil {
			return nil, err
		}
		reqs = append(reqs, r)
	}
	out := &ddb.BatchGetItemOutput{Responses: map[string][]map[string]Value{}, UnprocessedKeys: map[string]ddb.KeysAndAttributes{}}
	err := s.st.View(func(tx store.Tx) error {
		now := s.now()
		for _, r := range reqs {
			items := []map[string]Value{}
			units := 0.0
			for _, k := range r.keys {
				item, err := readItem(tx, r.t, k, now)
				if err != nil {
					return err
				}
				// Each item is read, and rounded up to 4 KB, on its own; a
				// missing one costs a read too, as GetItem's does.
				units += readUnits(itemSize(item), r.consistent)
				if item == nil {
					continue
				}
				if r.proj != nil {
					item = expr.Project(item, r.proj)
				}
				items = append(items, item)
			}
			out.Responses[r.t.Name] = items
			if c := s.consumed(ctx, in.ReturnConsumedCapacity, r.t.Name, units, true); c != nil {
				out.ConsumedCapacity = append(out.ConsumedCapacity, *c)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// BatchWriteItem puts and deletes up to 25 items across tables. wharf applies
// them all in one transaction, so nothing is ever left unprocessed.
func (s *Service) BatchWriteItem(ctx context.Context, in *ddb.BatchWriteItemInput) (*ddb.BatchWriteItemOutput, error) {
	if err := checkConsumedMode(in.ReturnConsumedCapacity); err != nil {
		return nil, err
	}
	if len(in.RequestItems) == 0 {
		return nil, apierr.Validation("1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	total := 0
	for _, ws := range in.RequestItems {
		if len(ws) > maxBatchWrite {
			return nil, apierr.Validation("1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]")
		}
		total += len(ws)
	}
	if total > maxBatchWrite {
		return nil, apierr.Validation("Too many items requested for the BatchWriteItem call")
	}
	names := make([]string, 0, len(in.RequestItems))
	for n := range in.RequestItems {
		names = append(names, n)
	}
	sort.Strings(names)
	var ops []*writeOp
	for _, name := range names {
		t, err := s.getTable(ctx, &name)
		if err != nil {
			return nil, err
		}
		if len(in.RequestItems[name]) == 0 {
			return nil, apierr.Validation("1 validation error detected: Value '{%s=[]}' at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]", name)
		}
		seen := map[string]bool{}
		for _, w := range in.RequestItems[name] {
			var op *writeOp
			switch {
			case w.PutRequest != nil && w.DeleteRequest == nil:
				op, err = s.putOp(t, w.PutRequest.Item, nil, nil, nil, nil, nil, nil)
			case w.DeleteRequest != nil && w.PutRequest == nil:
				op, err = s.deleteOp(t, w.DeleteRequest.Key, nil, nil, nil, nil, nil, nil)
			default:
				err = apierr.Validation("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
			}
			if err != nil {
				return nil, err
			}
			if seen[string(op.key)] {
				return nil, apierr.Validation("Provided list of item keys contains duplicates")
			}
			seen[string(op.key)] = true
			ops = append(ops, op)
		}
	}
	units := map[string]*capacity{}
	tables := map[string]*table{}
	err := s.st.Update(func(tx store.Tx) error {
		clear(units)
		now := s.now()
		for _, op := range ops {
			old, item, err := op.apply(s, tx, now)
			if err != nil {
				return err
			}
			if units[op.t.Name] == nil {
				units[op.t.Name] = &capacity{}
			}
			units[op.t.Name].add(op.t.writeCapacity(old, item))
			tables[op.t.Name] = op.t
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := &ddb.BatchWriteItemOutput{UnprocessedItems: map[string][]ddb.WriteRequest{}}
	for _, name := range names {
		if t := tables[name]; t != nil {
			if c := s.consumedBy(in.ReturnConsumedCapacity, t, *units[name], false); c != nil {
				out.ConsumedCapacity = append(out.ConsumedCapacity, *c)
			}
		}
	}
	return out, nil
}

// tokenRecord remembers a TransactWriteItems ClientRequestToken.
type tokenRecord struct {
	Hash string
	At   time.Time
}

func tokenKey(account, region, token string) []byte {
	return []byte("ddb/k/" + account + "/" + region + "/" + token)
}

// TransactWriteItems applies up to 100 puts, updates, deletes and condition
// checks all or nothing, in one store transaction.
func (s *Service) TransactWriteItems(ctx context.Context, in *ddb.TransactWriteItemsInput) (*ddb.TransactWriteItemsOutput, error) {
	if err := checkConsumedMode(in.ReturnConsumedCapacity); err != nil {
		return nil, err
	}
	n := len(in.TransactItems)
	if n == 0 || n > maxTransactItems {
		return nil, apierr.Validation("1 validation error detected: Value '%d' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100 and greater than or equal to 1", n)
	}
	if tok := awsapi.ToString(in.ClientRequestToken); len(tok) > 36 {
		return nil, apierr.Validation("1 validation error detected: Value '%s' at 'clientRequestToken' failed to satisfy constraint: Member must have length less than or equal to 36", tok)
	}
	ops := make([]*writeOp, n)
	seen := map[string]bool{}
	for i, ti := range in.TransactItems {
		var (
			op  *writeOp
			err error
			set int
		)
		if c := ti.ConditionCheck; c != nil {
			set++
			var t *table
			if t, err = s.getTable(ctx, c.TableName); err == nil {
				if c.ConditionExpression == nil {
					err = apierr.Validation("1 validation error detected: Value null at 'transactItems.%d.member.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null", i+1)
				} else if op, err = s.deleteOp(t, c.Key, c.ConditionExpression, c.ExpressionAttributeNames, c.ExpressionAttributeValues, c.ReturnValuesOnConditionCheckFailure, nil, nil); err == nil {
					op.kind = "check"
				}
			}
		}
		if p := ti.Put; p != nil {
			set++
			var t *table
			if t, err = s.getTable(ctx, p.TableName); err == nil {
				op, err = s.putOp(t, p.Item, p.ConditionExpression, p.ExpressionAttributeNames, p.ExpressionAttributeValues, p.ReturnValuesOnConditionCheckFailure, nil, nil)
			}
		}
		if d := ti.Delete; d != nil {
			set++
			var t *table
			if t, err = s.getTable(ctx, d.TableName); err == nil {
				op, err = s.deleteOp(t, d.Key, d.ConditionExpression, d.ExpressionAttributeNames, d.ExpressionAttributeValues, d.ReturnValuesOnConditionCheckFailure, nil, nil)
			}
		}
		if u := ti.Update; u != nil {
			set++
			var t *table
			if t, err = s.getTable(ctx, u.TableName); err == nil {
				if u.UpdateExpression == nil {
					err = apierr.Validation("1 validation error detected: Value null at 'transactItems.%d.member.update.updateExpression' failed to satisfy constraint: Member must not be null", i+1)
				} else {
					op, err = s.updateOp(t, u.Key, u.UpdateExpression, u.ConditionExpression, u.ExpressionAttributeNames, u.ExpressionAttributeValues, u.ReturnValuesOnConditionCheckFailure, nil, nil, nil)
				}
			}
		}
		if set != 1 {
			return nil, apierr.Validation("TransactItems can only contain one of Check, Put, Update or Delete")
		}
		if err != nil {
			if e := apierr.As(err); e != nil && itemValidation(e) {
				// An item the table cannot take cancels the transaction
				// with that action's reason; DynamoDB stops at the first,
				// so the others' reasons are None.
				return nil, cancelledAt(i, n, e.Message)
			}
			return nil, err
		}
		id := op.t.ID + "/" + string(op.key)
		if seen[id] {
			return nil, apierr.Validation("Transaction request cannot include multiple operations on one item")
		}
		seen[id] = true
		ops[i] = op
	}
	if size := transactionPayload(ops, in); size > maxTransactPayload {
		return nil, apierr.Validation("Transaction payload size cannot exceed 4 MB; transaction payload size: %d bytes", size)
	}
	account, region := caller(ctx)
	var tokKey []byte
	var hash string
	if tok := awsapi.ToString(in.ClientRequestToken); tok != "" {
		tokKey = tokenKey(account, region, tok)
		canon := *in
		canon.ClientRequestToken = nil
		raw, err := json.Marshal(canon)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(raw)
		hash = hex.EncodeToString(sum[:])
	}
	units, err := s.commitTransaction(ops, tokKey, hash)
	if err != nil {
		return nil, err
	}
	out := &ddb.TransactWriteItemsOutput{}
	for name, u := range units {
		if c := s.consumed(ctx, in.ReturnConsumedCapacity, name, u, false); c != nil {
			out.ConsumedCapacity = append(out.ConsumedCapacity, *c)
		}
	}
	return out, nil
}

// commitTransaction applies ops all or nothing in one store transaction and
// returns the write units each table consumed. A failed op cancels them all
// with a TransactionCanceledException that gives every op's reason. tokKey,
// when set, is the idempotency token's key and hash the request's digest: a
// repeat of an applied request succeeds without applying it again.
func (s *Service) commitTransaction(ops []*writeOp, tokKey []byte, hash string) (map[string]float64, error) {
	units := map[string]float64{}
	err := s.st.Update(func(tx store.Tx) error {
		clear(units)
		now := s.now()
		if tokKey != nil {
			raw, err := tx.Get(tokKey)
			if err != nil {
				return err
			}
			var rec tokenRecord
			if raw != nil && json.Unmarshal(raw, &rec) == nil && now.Sub(rec.At) < tokenLifetime {
				if rec.Hash != hash {
					return ddb.ErrIdempotentParameterMismatchException("Request parameters do not match those of a previous request with the same ClientRequestToken")
				}
				return nil // already applied: succeed again without applying twice
			}
		}
		reasons := make([]ddb.CancellationReason, len(ops))
		failed := false
		for i, op := range ops {
			old, item, err := op.apply(s, tx, now)
			reasons[i] = ddb.CancellationReason{Code: awsapi.String("None")}
			if err != nil {
				e := apierr.As(err)
				if e == nil {
					return err
				}
				failed = true
				switch e.Code {
				case "ConditionalCheckFailedException":
					reasons[i] = ddb.CancellationReason{Code: awsapi.String("ConditionalCheckFailed"), Message: awsapi.String("The conditional request failed")}
					if op.returnOnFail && old != nil {
						reasons[i].Item = old
					}
				case "DuplicateItemException":
					reasons[i] = ddb.CancellationReason{Code: awsapi.String("DuplicateItem"), Message: awsapi.String(e.Message)}
				default:
					reasons[i] = ddb.CancellationReason{Code: awsapi.String("ValidationError"), Message: awsapi.String(e.Message)}
				}
				continue
			}
			if op.kind != "check" {
				units[op.t.Name] += 2 * writeUnits(old, item)
			}
		}
		if failed {
			codes := make([]string, len(reasons))
			for i, r := range reasons {
				codes[i] = *r.Code
			}
			return ddb.ErrTransactionCanceledException("Transaction cancelled, please refer cancellation reasons for specific reasons [%s]", strings.Join(codes, ", ")).WithFields(map[string]any{"CancellationReasons": reasons})
		}
		if tokKey != nil {
			raw, _ := json.Marshal(tokenRecord{Hash: hash, At: now})
			return tx.Put(tokKey, raw)
		}
		return nil
	})
	return units, err
}

// TransactGetItems reads up to 100 items from one consistent snapshot.
func (s *Service) TransactGetItems(ctx context.Context, in *ddb.TransactGetItemsInput) (*ddb.TransactGetItemsOutput, error) {
	if err := checkConsumedMode(in.ReturnConsumedCapacity); err != nil {
		return nil, err
	}
	n := len(in.TransactItems)
	if n == 0 || n > maxTransactItems {
		return nil, apierr.Validation("1 validation error detected: Value '%d' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100 and greater than or equal to 1", n)
	}
	type get struct {
		t    *table
		key  []byte
		proj []expr.Path
	}
	gets := make([]get, n)
	for i, ti := range in.TransactItems {
		g := ti.Get
		if g == nil {
			return nil, apierr.Validation("1 validation error detected: Value null at 'transactItems.%d.member.get' failed to satisfy constraint: Member must not be null", i+1)
		}
		t, err := s.getTable(ctx, g.TableName)
		if err != nil {
			return nil, err
		}
		_, key, err := itemKey(t, g.Key)
		if err != nil {
			return nil, err
		}
		proj, err := projectionPaths(g.ProjectionExpression, g.ExpressionAttributeNames, nil)
		if err != nil {
			return nil, err
		}
		gets[i] = get{t, key, proj}
	}
	out := &ddb.TransactGetItemsOutput{Responses: make([]ddb.ItemResponse, n)}
	units := map[string]float64{}
	err := s.st.View(func(tx store.Tx) error {
		now := s.now()
		for i, g := range gets {
			item, err := readItem(tx, g.t, g.key, now)
			if err != nil {
				return err
			}
			units[g.t.Name] += 2 * readUnits(itemSize(item), true)
			if item != nil && g.proj != nil {
				item = expr.Project(item, g.proj)
			}
			out.Responses[i] = ddb.ItemResponse{Item: item}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for name, u := range units {
		if c := s.consumed(ctx, in.ReturnConsumedCapacity, name, u, true); c != nil {
			out.ConsumedCapacity = append(out.ConsumedCapacity, *c)
		}
	}
	return out, nil
}
