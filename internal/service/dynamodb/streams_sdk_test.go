package dynamodb_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	streams "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

// readStream returns every record of the table's latest stream, from the
// shard's beginning.
func readStream(t *testing.T, sc *streams.Client, table string) []stypes.Record {
	t.Helper()
	ctx := context.Background()
	ls, err := sc.ListStreams(ctx, &streams.ListStreamsInput{TableName: aws.String(table)})
	if err != nil || len(ls.Streams) != 1 {
		t.Fatalf("ListStreams: %v %+v", err, ls)
	}
	d, err := sc.DescribeStream(ctx, &streams.DescribeStreamInput{StreamArn: ls.Streams[0].StreamArn})
	if err != nil || len(d.StreamDescription.Shards) != 1 {
		t.Fatalf("DescribeStream: %v", err)
	}
	it, err := sc.GetShardIterator(ctx, &streams.GetShardIteratorInput{
		StreamArn: ls.Streams[0].StreamArn, ShardId: d.StreamDescription.Shards[0].ShardId,
		ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		t.Fatal(err)
	}
	var recs []stypes.Record
	iter := it.ShardIterator
	for iter != nil {
		out, err := sc.GetRecords(ctx, &streams.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(2)})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, out.Records...)
		if len(out.Records) == 0 {
			break // an open shard always has a next iterator
		}
		iter = out.NextShardIterator
	}
	return recs
}

func TestSDKStreamRecordsInsertModifyRemoveAndTTLInOrderAcrossARestart(t *testing.T) {
	dir := t.TempDir()
	durable := []string{"--ephemeral=false", "--data-dir", dir}
	past := strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)
	want := []struct {
		name        string
		key         string
		ttl         bool
		old, newVal string // the "v" attribute of the images, "" for none
	}{
		{"INSERT", "a", false, "", "1"},
		{"MODIFY", "a", false, "1", "2"},
		{"REMOVE", "a", false, "2", ""},
		{"INSERT", "b", false, "", "x"},
		{"REMOVE", "b", true, "x", ""},
	}
	t.Run("write", func(t *testing.T) {
		w := wharftest.Start(t, durable...)
		c, sc := sdk.NewFromConfig(w.Config()), streams.NewFromConfig(w.Config())
		ctx := context.Background()
		createTable(t, c, &sdk.CreateTableInput{
			TableName:           aws.String("events"),
			StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
		}, "p:S")
		if _, err := c.UpdateTimeToLive(ctx, &sdk.UpdateTimeToLiveInput{TableName: aws.String("events"), TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("exp"), Enabled: aws.Bool(true)}}); err != nil {
			t.Fatal(err)
		}
		put := func(it item) {
			if _, err := c.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String("events"), Item: it}); err != nil {
				t.Fatal(err)
			}
		}
		put(item{"p": s("a"), "v": s("1")})
		put(item{"p": s("a"), "v": s("1")}) // unchanged: no record
		if _, err := c.UpdateItem(ctx, &sdk.UpdateItemInput{TableName: aws.String("events"), Key: item{"p": s("a")}, UpdateExpression: aws.String("SET v = :v"), ExpressionAttributeValues: item{":v": s("2")}}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DeleteItem(ctx, &sdk.DeleteItemInput{TableName: aws.String("events"), Key: item{"p": s("a")}}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DeleteItem(ctx, &sdk.DeleteItemInput{TableName: aws.String("events"), Key: item{"p": s("missing")}}); err != nil {
			t.Fatal(err)
		}
		put(item{"p": s("b"), "v": s("x"), "exp": n(past)})
		// The TTL sweep runs every few seconds; wait for its deletion.
		deadline := time.Now().Add(30 * time.Second)
		for len(readStream(t, sc, "events")) < len(want) {
			if time.Now().After(deadline) {
				t.Fatalf("no TTL deletion in the stream: %d records", len(readStream(t, sc, "events")))
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
	t.Run("read after restart", func(t *testing.T) {
		w := wharftest.Start(t, durable...)
		sc := streams.NewFromConfig(w.Config())
		recs := readStream(t, sc, "events")
		if len(recs) != len(want) {
			t.Fatalf("%d records, want %d", len(recs), len(want))
		}
		image := func(m map[string]stypes.AttributeValue) string {
			if m == nil {
				return ""
			}
			return m["v"].(*stypes.AttributeValueMemberS).Value
		}
		var prev string
		for i, w := range want {
			r := recs[i]
			sr := r.Dynamodb
			key := sr.Keys["p"].(*stypes.AttributeValueMemberS).Value
			if string(r.EventName) != w.name || key != w.key || image(sr.OldImage) != w.old || image(sr.NewImage) != w.newVal {
				t.Errorf("record %d: %s %s old=%q new=%q, want %+v", i, r.EventName, key, image(sr.OldImage), image(sr.NewImage), w)
			}
			if *r.EventSource != "aws:dynamodb" || *r.AwsRegion != "us-east-1" || sr.StreamViewType != stypes.StreamViewTypeNewAndOldImages || sr.ApproximateCreationDateTime == nil {
				t.Errorf("record %d: %+v", i, r)
			}
			if *sr.SequenceNumber <= prev {
				t.Errorf("record %d: sequence number %s not after %s", i, *sr.SequenceNumber, prev)
			}
			prev = *sr.SequenceNumber
			ttl := r.UserIdentity != nil && *r.UserIdentity.PrincipalId == "dynamodb.amazonaws.com" && *r.UserIdentity.Type == "Service"
			if ttl != w.ttl || (!w.ttl && r.UserIdentity != nil) {
				t.Errorf("record %d: userIdentity %+v, TTL deletion %v", i, r.UserIdentity, w.ttl)
			}
		}
		// AFTER_SEQUENCE_NUMBER resumes after a record; LATEST sees nothing old.
		ctx := context.Background()
		ls, err := sc.ListStreams(ctx, &streams.ListStreamsInput{})
		if err != nil {
			t.Fatal(err)
		}
		d, err := sc.DescribeStream(ctx, &streams.DescribeStreamInput{StreamArn: ls.Streams[0].StreamArn})
		if err != nil {
			t.Fatal(err)
		}
		shard := d.StreamDescription.Shards[0].ShardId
		for typ, wantN := range map[stypes.ShardIteratorType]int{stypes.ShardIteratorTypeAfterSequenceNumber: 2, stypes.ShardIteratorTypeAtSequenceNumber: 3, stypes.ShardIteratorTypeLatest: 0} {
			in := &streams.GetShardIteratorInput{StreamArn: ls.Streams[0].StreamArn, ShardId: shard, ShardIteratorType: typ}
			if typ != stypes.ShardIteratorTypeLatest {
				in.SequenceNumber = recs[2].Dynamodb.SequenceNumber
			}
			it, err := sc.GetShardIterator(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			out, err := sc.GetRecords(ctx, &streams.GetRecordsInput{ShardIterator: it.ShardIterator})
			if err != nil || len(out.Records) != wantN || out.NextShardIterator == nil {
				t.Errorf("%s: %v, %d records, want %d", typ, err, len(out.Records), wantN)
			}
		}
	})
}

func TestSDKStreamSpecificationErrors(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createTable(t, c, &sdk.CreateTableInput{TableName: aws.String("spec")}, "p:S")
	update := func(enabled bool, view types.StreamViewType) error {
		_, err := c.UpdateTable(ctx, &sdk.UpdateTableInput{TableName: aws.String("spec"), StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(enabled), StreamViewType: view}})
		return err
	}
	wantValidation(t, update(false, ""), "does not have a stream to disable")
	if err := update(true, types.StreamViewTypeKeysOnly); err != nil {
		t.Fatal(err)
	}
	wantValidation(t, update(true, types.StreamViewTypeNewImage), "already has an enabled stream")
	d, err := c.DescribeTable(ctx, &sdk.DescribeTableInput{TableName: aws.String("spec")})
	if err != nil || d.Table.LatestStreamArn == nil || d.Table.LatestStreamLabel == nil {
		t.Fatalf("DescribeTable: %v %+v", err, d)
	}
}

// BenchmarkSDKPutItemDurable puts items from 8 clients into a durable store,
// on a table without a stream and on one with a NEW_AND_OLD_IMAGES stream:
// the stream record is written in the item's transaction, and should cost
// little beside its fsync-bound commit.
func BenchmarkSDKPutItemDurable(b *testing.B) {
	for _, stream := range []bool{false, true} {
		name := "no-stream"
		if stream {
			name = "stream"
		}
		b.Run(name, func(b *testing.B) {
			w := wharftest.Start(b, "--ephemeral=false", "--data-dir", b.TempDir())
			c := sdk.NewFromConfig(w.Config())
			in := &sdk.CreateTableInput{
				TableName:            aws.String("bench"),
				AttributeDefinitions: []types.AttributeDefinition{def("p", "S"), def("s", "N")},
				KeySchema:            keySchema("p", "s"),
				BillingMode:          types.BillingModePayPerRequest,
			}
			if stream {
				in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages}
			}
			if _, err := c.CreateTable(context.Background(), in); err != nil {
				b.Fatal(err)
			}
			var seq atomicInt
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := seq.add()
					_, err := c.PutItem(context.Background(), &sdk.PutItemInput{TableName: aws.String("bench"), Item: item{
						"p": s("p"), "s": n(strconv.FormatInt(i, 10)), "payload": s("a modest item payload of about one hundred bytes, like a typical task result row"),
					}})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
