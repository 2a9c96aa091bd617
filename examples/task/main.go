// Command task is the program inside the examples' container image. It is
// ordinary AWS SDK for Go v2 code with no wharf-specific line: the SDK finds
// wharf through AWS_ENDPOINT_URL and the task role's credentials through
// AWS_CONTAINER_CREDENTIALS_FULL_URI, both set by ECS in the container, as on
// AWS. The examples build it static (CGO_ENABLED=0) and import it into Docker
// as a one-file image FROM scratch, so no registry is needed.
//
//	task object    read s3://$BUCKET/$KEY, count its lines, words and bytes,
//	               and put the result in DynamoDB table $TABLE (architecture 1)
//	task batch     do the same for every object under s3://$BUCKET/$PREFIX and
//	               put a summary item for the batch (architecture 2)
//	task worker    long-poll SQS queue $QUEUE_URL, spend $WORK_MS on each
//	               message, record it in $TABLE, until SIGTERM (architecture 3)
//	task crash N   complain on stderr and exit with status N (architecture 4)
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: task object | batch | worker | crash N")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "object":
		err = object(ctx)
	case "batch":
		err = batch(ctx)
	case "worker":
		err = worker(ctx)
	case "crash":
		code := 1
		if len(os.Args) > 2 {
			code, _ = strconv.Atoi(os.Args[2])
		}
		fmt.Println("starting up")
		fmt.Fprintln(os.Stderr, "fatal: the configuration file is missing; giving up with exit status", code)
		os.Exit(code)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// clients is the SDK's default configuration: whatever the environment says.
type clients struct {
	s3  *s3.Client
	ddb *dynamodb.Client
	sqs *sqs.Client
}

func connect(ctx context.Context) (*clients, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load SDK configuration: %w", err)
	}
	// Say who we are: the task role's assumed-role session, not the caller
	// who started the task.
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("sts GetCallerIdentity: %w", err)
	}
	fmt.Println("running as", aws.ToString(id.Arn))
	return &clients{s3: s3.NewFromConfig(cfg), ddb: dynamodb.NewFromConfig(cfg), sqs: sqs.NewFromConfig(cfg)}, nil
}

func need(name string) (string, error) {
	v := os.Getenv(name)
	if v == "" {
		return "", fmt.Errorf("environment variable %s is not set", name)
	}
	return v, nil
}

// counts are what the examples compute from an object.
type counts struct{ lines, words, bytes int }

func count(r io.Reader) (counts, error) {
	var c counts
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			c.lines++
			c.words += len(strings.Fields(line))
			c.bytes += len(line)
		}
		if errors.Is(err, io.EOF) {
			return c, nil
		}
		if err != nil {
			return c, err
		}
	}
}

// process reads one object and records its counts in table.
func (c *clients) process(ctx context.Context, bucket, key, table string) (counts, error) {
	obj, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return counts{}, fmt.Errorf("s3 GetObject s3://%s/%s: %w", bucket, key, err)
	}
	n, err := count(obj.Body)
	obj.Body.Close()
	if err != nil {
		return n, fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
	}
	_, err = c.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: map[string]ddbtypes.AttributeValue{
		"object":    &ddbtypes.AttributeValueMemberS{Value: "s3://" + bucket + "/" + key},
		"lines":     num(n.lines),
		"words":     num(n.words),
		"bytes":     num(n.bytes),
		"processed": &ddbtypes.AttributeValueMemberS{Value: time.Now().UTC().Format(time.RFC3339)},
	}})
	if err != nil {
		return n, fmt.Errorf("dynamodb PutItem: %w", err)
	}
	fmt.Printf("s3://%s/%s: %d lines, %d words, %d bytes -> %s\n", bucket, key, n.lines, n.words, n.bytes, table)
	return n, nil
}

func num(n int) *ddbtypes.AttributeValueMemberN {
	return &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(n)}
}

func object(ctx context.Context) error {
	bucket, err := need("BUCKET")
	if err != nil {
		return err
	}
	key, err := need("KEY")
	if err != nil {
		return err
	}
	table, err := need("TABLE")
	if err != nil {
		return err
	}
	c, err := connect(ctx)
	if err != nil {
		return err
	}
	_, err = c.process(ctx, bucket, key, table)
	return err
}

func batch(ctx context.Context) error {
	bucket, err := need("BUCKET")
	if err != nil {
		return err
	}
	prefix := os.Getenv("PREFIX")
	table, err := need("TABLE")
	if err != nil {
		return err
	}
	c, err := connect(ctx)
	if err != nil {
		return err
	}
	var total counts
	objects := 0
	p := s3.NewListObjectsV2Paginator(c.s3, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("s3 ListObjectsV2 s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			n, err := c.process(ctx, bucket, aws.ToString(o.Key), table)
			if err != nil {
				return err
			}
			objects++
			total.lines += n.lines
			total.words += n.words
			total.bytes += n.bytes
		}
	}
	_, err = c.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: map[string]ddbtypes.AttributeValue{
		"object":  &ddbtypes.AttributeValueMemberS{Value: "batch:s3://" + bucket + "/" + prefix},
		"objects": num(objects),
		"lines":   num(total.lines),
		"words":   num(total.words),
		"bytes":   num(total.bytes),
	}})
	if err != nil {
		return fmt.Errorf("dynamodb PutItem: %w", err)
	}
	fmt.Printf("batch s3://%s/%s: %d objects, %d lines, %d words, %d bytes\n", bucket, prefix, objects, total.lines, total.words, total.bytes)
	return nil
}

func worker(ctx context.Context) error {
	queue, err := need("QUEUE_URL")
	if err != nil {
		return err
	}
	table, err := need("TABLE")
	if err != nil {
		return err
	}
	work, _ := strconv.Atoi(os.Getenv("WORK_MS"))
	c, err := connect(ctx)
	if err != nil {
		return err
	}
	fmt.Println("worker polling", queue)
	for ctx.Err() == nil {
		out, err := c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &queue, MaxNumberOfMessages: 1, WaitTimeSeconds: 5})
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "sqs ReceiveMessage:", err)
			time.Sleep(time.Second)
			continue
		}
		for _, m := range out.Messages {
			select {
			case <-time.After(time.Duration(work) * time.Millisecond):
			case <-ctx.Done():
				// Not deleted: the message becomes visible again for another worker.
				return nil
			}
			_, err := c.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: map[string]ddbtypes.AttributeValue{
				"object": &ddbtypes.AttributeValueMemberS{Value: "message:" + aws.ToString(m.MessageId)},
				"body":   &ddbtypes.AttributeValueMemberS{Value: aws.ToString(m.Body)},
				"bytes":  num(len(aws.ToString(m.Body))),
			}})
			if err != nil {
				fmt.Fprintln(os.Stderr, "dynamodb PutItem:", err)
				continue
			}
			if _, err := c.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &queue, ReceiptHandle: m.ReceiptHandle}); err != nil {
				fmt.Fprintln(os.Stderr, "sqs DeleteMessage:", err)
			}
			fmt.Println("processed", aws.ToString(m.MessageId), strconv.Quote(string(bytes.TrimSpace([]byte(aws.ToString(m.Body))))))
		}
	}
	fmt.Println("SIGTERM: stopping")
	return nil
}
