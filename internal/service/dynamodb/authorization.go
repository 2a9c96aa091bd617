package dynamodb

import (
	"encoding/base64"
	"strings"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	ddb "github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	"github.com/wharf-dev/wharf/internal/service/dynamodb/expr"
	"github.com/wharf-dev/wharf/internal/store"
)

// TableAuthorization returns, for the authorizer, the resource-based policy
// ("" when none) and the tags of the table that arn names: the table itself,
// one of its indexes (table/T/index/I) or its stream, which the table's
// policy also governs ("Using resource-based policies for DynamoDB").
// found is false when there is no such table.
func (s *Service) TableAuthorization(arn string) (policy string, tags map[string]string, found bool, err error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "dynamodb" || !strings.HasPrefix(parts[5], "table/") {
		return "", nil, false, nil
	}
	name, _, _ := strings.Cut(strings.TrimPrefix(parts[5], "table/"), "/")
	err = s.st.View(func(tx store.Tx) error {
		t, err := s.cachedTable(tx, parts[4], parts[3], name)
		if e := apierr.As(err); e != nil && e.Code == "ResourceNotFoundException" {
			return nil
		}
		if err != nil {
			return err
		}
		found, tags = true, t.Tags
		p, err := loadPolicy(tx, t)
		if err != nil || p == nil {
			return err
		}
		policy = p.Document
		return nil
	})
	return policy, tags, found, err
}

// TablePolicy returns the resource-based policy ("" when none) of the table
// arn names, as TableAuthorization does. The authorizer asks it for every
// request on a table, and most stores hold no table policy at all: then
// nothing is read.
func (s *Service) TablePolicy(arn string) (string, error) {
	if !s.mayHavePolicies() {
		return "", nil
	}
	policy, _, _, err := s.TableAuthorization(arn)
	return policy, err
}

// mayHavePolicies reports whether some table may have a resource-based
// policy. The store is searched once; PutResourcePolicy marks the service
// before its write commits, so no authorization that starts after a policy
// is acknowledged misses it, and a search that raced the write cannot undo
// the mark (CompareAndSwap from policiesUnknown only).
func (s *Service) mayHavePolicies() bool {
	if p := s.policies.Load(); p != policiesUnknown {
		return p == policiesMaybe
	}
	found := false
	err := s.st.View(func(tx store.Tx) error {
		return tx.Scan([]byte(policyPrefix), nil, func(k, v []byte) (bool, error) {
			found = true
			return false, nil
		})
	})
	if err != nil {
		return true // read per request, as if a policy were there
	}
	if found {
		// Remembered, or every request would search again.
		s.policies.Store(policiesMaybe)
		return true
	}
	s.policies.CompareAndSwap(policiesUnknown, policiesNone)
	return s.policies.Load() == policiesMaybe
}

// LeadingKeys returns, for the condition key dynamodb:LeadingKeys, the
// partition key values of the items input reads or writes: the Key or Item
// of GetItem, PutItem, UpdateItem and DeleteItem, the partition key a Query
// of the table (or a local secondary index, which shares it) is equal to,
// and every item of BatchGetItem, BatchWriteItem, TransactGetItems and
// TransactWriteItems ("Using IAM policy conditions for fine-grained access
// control"). A request naming several tables gives the values of all of
// them, so a ForAllValues condition is checked against each (stricter than
// AWS, which checks each table's own). String and number values are as
// written, binary ones base64. account and region are the caller's.
func (s *Service) LeadingKeys(account, region string, input any) []string {
	var out []string
	add := func(t *table, item map[string]Value) {
		if t == nil {
			return
		}
		if v, ok := item[t.Hash]; ok {
			if str, ok := keyString(v); ok {
				out = append(out, str)
			}
		}
	}
	_ = s.st.View(func(tx store.Tx) error {
		tables := map[string]*table{}
		tbl := func(name *string) *table {
			if name == nil {
				return nil
			}
			if t, ok := tables[*name]; ok {
				return t
			}
			acct, reg, n := account, region, *name
			if parts := strings.SplitN(n, ":", 6); len(parts) == 6 && strings.HasPrefix(parts[5], "table/") {
				acct, reg, n = parts[4], parts[3], strings.TrimPrefix(parts[5], "table/")
			}
			t, err := loadTable(tx, acct, reg, n)
			if err != nil {
				t = nil // the operation reports a missing table itself
			}
			tables[*name] = t
			return t
		}
		switch in := input.(type) {
		case *ddb.GetItemInput:
			add(tbl(in.TableName), in.Key)
		case *ddb.PutItemInput:
			add(tbl(in.TableName), in.Item)
		case *ddb.UpdateItemInput:
			add(tbl(in.TableName), in.Key)
		case *ddb.DeleteItemInput:
			add(tbl(in.TableName), in.Key)
		case *ddb.QueryInput:
			t := tbl(in.TableName)
			if t == nil {
				return nil
			}
			rangeName := t.Range
			if in.IndexName != nil {
				ix := t.index(*in.IndexName)
				if ix == nil || ix.Global {
					return nil // a global index's partition key is not the table's
				}
				rangeName = ix.Range
			}
			if v, ok := queryHashValue(t.Hash, rangeName, in); ok {
				add(t, map[string]Value{t.Hash: v})
			}
		case *ddb.BatchGetItemInput:
			for name, ka := range in.RequestItems {
				t := tbl(&name)
				for _, k := range ka.Keys {
					add(t, k)
				}
			}
		case *ddb.BatchWriteItemInput:
			for name, reqs := range in.RequestItems {
				t := tbl(&name)
				for _, r := range reqs {
					switch {
					case r.PutRequest != nil:
						add(t, r.PutRequest.Item)
					case r.DeleteRequest != nil:
						add(t, r.DeleteRequest.Key)
					}
				}
			}
		case *ddb.TransactGetItemsInput:
			for _, it := range in.TransactItems {
				if it.Get != nil {
					add(tbl(it.Get.TableName), it.Get.Key)
				}
			}
		case *ddb.TransactWriteItemsInput:
			for _, it := range in.TransactItems {
				switch {
				case it.Put != nil:
					add(tbl(it.Put.TableName), it.Put.Item)
				case it.Update != nil:
					add(tbl(it.Update.TableName), it.Update.Key)
				case it.Delete != nil:
					add(tbl(it.Delete.TableName), it.Delete.Key)
				case it.ConditionCheck != nil:
					add(tbl(it.ConditionCheck.TableName), it.ConditionCheck.Key)
				}
			}
		}
		return nil
	})
	return out
}

// keyString is a key attribute's value as a condition key compares it.
func keyString(v Value) (string, bool) {
	switch {
	case v.S != nil:
		return *v.S, true
	case v.N != nil:
		return *v.N, true
	case v.B != nil:
		return base64.StdEncoding.EncodeToString(v.B), true
	}
	return "", false
}

// queryHashValue is the value a Query's key condition sets the partition
// key hash to, from KeyConditionExpression or the legacy KeyConditions.
func queryHashValue(hash, rangeName string, in *ddb.QueryInput) (Value, bool) {
	if in.KeyConditionExpression != nil {
		env := expr.NewEnv(in.ExpressionAttributeNames, in.ExpressionAttributeValues)
		kc, err := expr.ParseKeyCondition(env, *in.KeyConditionExpression, hash, rangeName)
		if err != nil || kc.HashName != hash {
			return Value{}, false
		}
		return kc.Hash, true
	}
	if c, ok := in.KeyConditions[hash]; ok && awsapi.ToString(c.ComparisonOperator) == "EQ" && len(c.AttributeValueList) == 1 {
		return c.AttributeValueList[0], true
	}
	return Value{}, false
}
