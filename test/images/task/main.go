// Command task is the program inside wharf's test images: built static
// (CGO_ENABLED=0) and imported into the engine FROM scratch, so tests need no
// registry. Its first argument picks what it does:
//
//	exit N        print a line on stdout and one on stderr, exit with N
//	sleep         run until SIGTERM, then print "terminated" and exit 0
//	ignore-term   run until killed (SIGTERM is ignored)
//	sdk QUEUE     with the SDK's default configuration (no wharf-specific code):
//	              print sts GetCallerIdentity's ARN and send it to the SQS queue
//	              named QUEUE; exit 0 on success
//	metadata      print the task metadata document ($ECS_CONTAINER_METADATA_URI_V4/task)
//	env           print the environment
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: task exit N | sleep | ignore-term | sdk QUEUE | metadata | env")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "exit":
		code, _ := strconv.Atoi(arg(2))
		fmt.Println("exiting with", code)
		fmt.Fprintln(os.Stderr, "this is stderr")
		os.Exit(code)
	case "sleep":
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM)
		fmt.Println("sleeping")
		<-ch
		fmt.Println("terminated")
	case "ignore-term":
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ignoring SIGTERM")
		time.Sleep(time.Hour)
	case "sdk":
		if err := useSDK(arg(2)); err != nil {
			fmt.Fprintln(os.Stderr, "sdk:", err)
			os.Exit(1)
		}
	case "metadata":
		resp, err := http.Get(os.Getenv("ECS_CONTAINER_METADATA_URI_V4") + "/task")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		io.Copy(os.Stdout, resp.Body)
		fmt.Println()
	case "env":
		for _, kv := range os.Environ() {
			fmt.Println(kv)
		}
	default:
		fmt.Fprintln(os.Stderr, "unknown command", os.Args[1])
		os.Exit(2)
	}
}

func arg(i int) string {
	if i < len(os.Args) {
		return os.Args[i]
	}
	return ""
}

func useSDK(queue string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fmt.Errorf("GetCallerIdentity: %w", err)
	}
	fmt.Println("identity", *id.Arn)
	q := sqs.NewFromConfig(cfg)
	url, err := q.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: &queue})
	if err != nil {
		return fmt.Errorf("GetQueueUrl: %w", err)
	}
	_, err = q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: url.QueueUrl, MessageBody: id.Arn})
	if err != nil {
		return fmt.Errorf("SendMessage: %w", err)
	}
	return nil
}
