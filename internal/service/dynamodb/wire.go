package dynamodb

import (
	ddb "github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	"github.com/wharf-dev/wharf/internal/ddbitem"
)

// The answers of GetItem, Query and Scan with their items in the stored
// form (ddbitem.Raw), which the JSON codec writes as it writes an item's
// map: each has the members of the generated output, in the same order and
// with the same tags, its items' type aside (TestStoredOutputsMirrorTheModel).
// The server binds the *Stored operations; Go callers in process, which
// read the items, use GetItem, Query and Scan.

// GetItemStoredOutput is ddb.GetItemOutput with the item in its stored form.
type GetItemStoredOutput struct {
	Item             ddbitem.Raw           `aws:"Item"`
	ConsumedCapacity *ddb.ConsumedCapacity `aws:"ConsumedCapacity"`
}

// QueryStoredOutput is ddb.QueryOutput with the items in their stored form.
type QueryStoredOutput struct {
	Items            []ddbitem.Raw         `aws:"Items"`
	Count            *int32                `aws:"Count"`
	ScannedCount     *int32                `aws:"ScannedCount"`
	LastEvaluatedKey map[string]Value      `aws:"LastEvaluatedKey"`
	ConsumedCapacity *ddb.ConsumedCapacity `aws:"ConsumedCapacity"`
}

// ScanStoredOutput is ddb.ScanOutput with the items in their stored form.
type ScanStoredOutput struct {
	Items            []ddbitem.Raw         `aws:"Items"`
	Count            *int32                `aws:"Count"`
	ScannedCount     *int32                `aws:"ScannedCount"`
	LastEvaluatedKey map[string]Value      `aws:"LastEvaluatedKey"`
	ConsumedCapacity *ddb.ConsumedCapacity `aws:"ConsumedCapacity"`
}
