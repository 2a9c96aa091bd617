package app

import (
	"context"
	"encoding/base64"
	"strconv"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	dynamodbapi "github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/console"
)

// SentMessage is what the console's send form answers.
type SentMessage struct {
	MessageID      string `json:"messageId"`
	SequenceNumber string `json:"sequenceNumber,omitempty"`
}

// PeekedMessage is one message the console's peek received.
type PeekedMessage struct {
	MessageID    string     `json:"messageId"`
	Body         string     `json:"body"`
	ReceiveCount int64      `json:"receiveCount"` // ApproximateReceiveCount, this receive included
	Sent         *time.Time `json:"sent,omitempty"`
	GroupID      string     `json:"groupId,omitempty"`
}

// TableItems is what the console's query form and items view answer: the
// items in DynamoDB JSON ({"id": {"S": "a"}}).
type TableItems struct {
	Items        []map[string]any `json:"items"`
	Count        int32            `json:"count"`
	ScannedCount int32            `json:"scannedCount"`
	// More says DynamoDB stopped at the console's limit with items left.
	More bool `json:"more"`
}

// maxTableItems bounds one page of items the console shows.
const maxTableItems = 100

// SendMessage sends m with SQS's SendMessage, so its checks (an empty
// body, a FIFO queue's group id) answer the form as they answer a client.
func (r *resources) SendMessage(ctx context.Context, m console.NewMessage, q console.Query) (any, error) {
	in := &sqsapi.SendMessageInput{QueueUrl: awsapi.String(m.URL), MessageBody: awsapi.String(m.Body)}
	if m.GroupID != "" {
		in.MessageGroupId = awsapi.String(m.GroupID)
	}
	if m.DeduplicationID != "" {
		in.MessageDeduplicationId = awsapi.String(m.DeduplicationID)
	}
	out, err := r.sys.SQS.SendMessage(r.as(ctx, q.Region, q.Host), in)
	if err != nil {
		return nil, err
	}
	return SentMessage{MessageID: awsapi.ToString(out.MessageId), SequenceNumber: awsapi.ToString(out.SequenceNumber)}, nil
}

// PeekMessages receives up to max messages with VisibilityTimeout=0: AWS
// has no peek, and its console's "poll for messages" does the same, so the
// messages stay visible and their receive count goes up.
func (r *resources) PeekMessages(ctx context.Context, url string, max int, q console.Query) (any, error) {
	out, err := r.sys.SQS.ReceiveMessage(r.as(ctx, q.Region, q.Host), &sqsapi.ReceiveMessageInput{QueueUrl: awsapi.String(url),
		MaxNumberOfMessages: awsapi.Int32(int32(max)), VisibilityTimeout: awsapi.Int32(0), WaitTimeSeconds: awsapi.Int32(0),
		AttributeNames: []string{"All"}})
	if err != nil {
		return nil, err
	}
	ms := []PeekedMessage{}
	for _, m := range out.Messages {
		p := PeekedMessage{MessageID: awsapi.ToString(m.MessageId), Body: awsapi.ToString(m.Body),
			ReceiveCount: atoi64(m.Attributes["ApproximateReceiveCount"]), GroupID: m.Attributes["MessageGroupId"]}
		if n, err := strconv.ParseInt(m.Attributes["SentTimestamp"], 10, 64); err == nil {
			t := time.UnixMilli(n).UTC()
			p.Sent = &t
		}
		ms = append(ms, p)
	}
	return map[string]any{"messages": ms}, nil
}

// QueryTable runs DynamoDB's Query: the partition key equal to
// tq.Partition and, when tq.SortOp is set, a condition on the sort key,
// each value typed as the table's attribute definitions say.
func (r *resources) QueryTable(ctx context.Context, tq console.TableQuery, q console.Query) (any, error) {
	ctx = r.as(ctx, q.Region, q.Host)
	d, err := r.sys.DynamoDB.DescribeTable(ctx, &dynamodbapi.DescribeTableInput{TableName: awsapi.String(tq.Table)})
	if err != nil {
		return nil, err
	}
	types := map[string]string{}
	for _, a := range d.Table.AttributeDefinitions {
		types[awsapi.ToString(a.AttributeName)] = awsapi.ToString(a.AttributeType)
	}
	var hash, rng string
	for _, k := range d.Table.KeySchema {
		if awsapi.ToString(k.KeyType) == "HASH" {
			hash = awsapi.ToString(k.AttributeName)
		} else {
			rng = awsapi.ToString(k.AttributeName)
		}
	}
	names := map[string]string{"#pk": hash}
	values := map[string]dynamodbapi.AttributeValue{}
	if values[":pk"], err = keyValue(hash, types[hash], tq.Partition); err != nil {
		return nil, err
	}
	cond := "#pk = :pk"
	if tq.SortOp != "" {
		if rng == "" {
			return nil, apierr.New("ValidationException", 400, "table %s has no sort key to put a condition on", tq.Table)
		}
		names["#sk"] = rng
		if values[":sk"], err = keyValue(rng, types[rng], tq.Sort); err != nil {
			return nil, err
		}
		switch tq.SortOp {
		case "=", "<", "<=", ">", ">=":
			cond += " AND #sk " + tq.SortOp + " :sk"
		case "begins_with":
			cond += " AND begins_with(#sk, :sk)"
		case "between":
			if values[":sk2"], err = keyValue(rng, types[rng], tq.Sort2); err != nil {
				return nil, err
			}
			cond += " AND #sk BETWEEN :sk AND :sk2"
		default:
			return nil, apierr.New("ValidationException", 400, "sortOp: want =, <, <=, >, >=, begins_with or between, got %q", tq.SortOp)
		}
	}
	out, err := r.sys.DynamoDB.Query(ctx, &dynamodbapi.QueryInput{TableName: awsapi.String(tq.Table), KeyConditionExpression: awsapi.String(cond),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values, Limit: awsapi.Int32(maxTableItems)})
	if err != nil {
		return nil, err
	}
	return tableItems(out.Items, awsapi.ToInt32(out.Count), awsapi.ToInt32(out.ScannedCount), out.LastEvaluatedKey != nil), nil
}

// tableScan is the items view: the first items of a table, with Scan.
func (r *resources) tableScan(ctx context.Context, table string) (TableItems, error) {
	out, err := r.sys.DynamoDB.Scan(ctx, &dynamodbapi.ScanInput{TableName: awsapi.String(table), Limit: awsapi.Int32(maxTableItems)})
	if err != nil {
		return TableItems{}, err
	}
	return tableItems(out.Items, awsapi.ToInt32(out.Count), awsapi.ToInt32(out.ScannedCount), out.LastEvaluatedKey != nil), nil
}

// keyValue types a key's value from the form as its attribute definition
// says (S, N, or B as base64).
func keyValue(name, typ, v string) (dynamodbapi.AttributeValue, error) {
	switch typ {
	case "N":
		return dynamodbapi.AttributeValue{N: awsapi.String(v)}, nil
	case "B":
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return dynamodbapi.AttributeValue{}, apierr.New("ValidationException", 400, "key %s is binary: give its value as base64", name)
		}
		return dynamodbapi.AttributeValue{B: b}, nil
	}
	return dynamodbapi.AttributeValue{S: awsapi.String(v)}, nil
}

func tableItems(items []map[string]dynamodbapi.AttributeValue, count, scanned int32, more bool) TableItems {
	t := TableItems{Items: []map[string]any{}, Count: count, ScannedCount: scanned, More: more}
	for _, it := range items {
		m := map[string]any{}
		for k, v := range it {
			m[k] = attrJSON(v)
		}
		t.Items = append(t.Items, m)
	}
	return t
}

// attrJSON renders an attribute value as DynamoDB JSON, the form the aws
// CLI prints.
func attrJSON(v dynamodbapi.AttributeValue) map[string]any {
	switch {
	case v.S != nil:
		return map[string]any{"S": *v.S}
	case v.N != nil:
		return map[string]any{"N": *v.N}
	case v.B != nil:
		return map[string]any{"B": v.B} // base64, as encoding/json writes []byte
	case v.SS != nil:
		return map[string]any{"SS": v.SS}
	case v.NS != nil:
		return map[string]any{"NS": v.NS}
	case v.BS != nil:
		return map[string]any{"BS": v.BS}
	case v.M != nil:
		m := map[string]any{}
		for k, x := range v.M {
			m[k] = attrJSON(x)
		}
		return map[string]any{"M": m}
	case v.L != nil:
		l := make([]any, 0, len(v.L))
		for _, x := range v.L {
			l = append(l, attrJSON(x))
		}
		return map[string]any{"L": l}
	case v.NULL != nil:
		return map[string]any{"NULL": *v.NULL}
	case v.BOOL != nil:
		return map[string]any{"BOOL": *v.BOOL}
	}
	return map[string]any{}
}
