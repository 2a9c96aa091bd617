package sqs_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdksqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/wharf-dev/wharf/internal/app"
	"github.com/wharf-dev/wharf/internal/config"
)

// BenchmarkSendMessageDurable sends 256-byte messages from 8 goroutines to the
// real server on a disk data directory, in process, so that
// -cpuprofile shows the server's send path (bench/sqs measures it against moto).
func BenchmarkSendMessageDurable(b *testing.B) {
	cfg, err := config.Parse([]string{"--listen", "127.0.0.1:0", "--data-dir", b.TempDir()}, func(string) string { return "" }, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w, err := app.Start(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "bench")
	if err != nil {
		b.Fatal(err)
	}
	defer func() { cancel(); w.Wait() }()
	c := sdksqs.New(sdksqs.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://" + w.Addr()),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	q, err := c.CreateQueue(ctx, &sdksqs.CreateQueueInput{QueueName: aws.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	body := aws.String(strings.Repeat("b", 256))
	b.SetParallelism(4) // 4 x GOMAXPROCS(2) = 8 clients on the bench machine
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.SendMessage(ctx, &sdksqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: body}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
