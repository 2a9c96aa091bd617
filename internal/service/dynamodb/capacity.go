package dynamodb

import (
	"context"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	ddb "github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
)

// asCaller is ctx as the account's root calling op, as Application Auto
// Scaling calls DynamoDB with its service-linked role.
func asCaller(ctx context.Context, account, region, op string) context.Context {
	return awsapi.WithCaller(ctx, &awsapi.Caller{Account: account, Region: region, Service: "dynamodb", Operation: op,
		ARN: "arn:aws:iam::" + account + ":root"})
}

// ProvisionedCapacity is a provisioned table's (or, with index set, its
// global secondary index's) read or write capacity units, for Application
// Auto Scaling, read as DescribeTable shows them. A table in on-demand mode
// has none to scale: a ValidationException.
func (s *Service) ProvisionedCapacity(ctx context.Context, account, region, table, index string, write bool) (int64, error) {
	out, err := s.DescribeTable(asCaller(ctx, account, region, "DescribeTable"), &ddb.DescribeTableInput{TableName: awsapi.String(table)})
	if err != nil {
		return 0, err
	}
	d := out.Table
	if bm := d.BillingModeSummary; bm != nil && awsapi.ToString(bm.BillingMode) == "PAY_PER_REQUEST" {
		return 0, apierr.Validation("Table %s is in on-demand capacity mode (PAY_PER_REQUEST): it has no provisioned capacity to scale.", table)
	}
	pt := d.ProvisionedThroughput
	if index != "" {
		pt = nil
		for _, g := range d.GlobalSecondaryIndexes {
			if awsapi.ToString(g.IndexName) == index {
				pt = g.ProvisionedThroughput
			}
		}
		if pt == nil {
			return 0, ddb.ErrResourceNotFoundException("Requested resource not found: Index: %s not found in table %s", index, table)
		}
	}
	if pt == nil {
		return 0, apierr.Validation("Table %s has no provisioned throughput.", table)
	}
	if write {
		return awsapi.ToInt64(pt.WriteCapacityUnits), nil
	}
	return awsapi.ToInt64(pt.ReadCapacityUnits), nil
}

// SetProvisionedCapacity sets a table's (or a global secondary index's)
// read or write capacity units through UpdateTable, keeping the other.
func (s *Service) SetProvisionedCapacity(ctx context.Context, account, region, table, index string, write bool, units int64) error {
	read, err := s.ProvisionedCapacity(ctx, account, region, table, index, false)
	if err != nil {
		return err
	}
	wr, err := s.ProvisionedCapacity(ctx, account, region, table, index, true)
	if err != nil {
		return err
	}
	if write {
		wr = units
	} else {
		read = units
	}
	pt := &ddb.ProvisionedThroughput{ReadCapacityUnits: awsapi.Int64(read), WriteCapacityUnits: awsapi.Int64(wr)}
	in := &ddb.UpdateTableInput{TableName: awsapi.String(table)}
	if index == "" {
		in.ProvisionedThroughput = pt
	} else {
		in.GlobalSecondaryIndexUpdates = []ddb.GlobalSecondaryIndexUpdate{{Update: &ddb.UpdateGlobalSecondaryIndexAction{IndexName: awsapi.String(index), ProvisionedThroughput: pt}}}
	}
	_, err = s.UpdateTable(asCaller(ctx, account, region, "UpdateTable"), in)
	return err
}
