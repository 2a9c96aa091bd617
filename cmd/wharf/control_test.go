package main

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

func TestResetAndClockCommandsTalkToARunningWharf(t *testing.T) {
	srv := wharftest.Start(t)
	ctx := context.Background()
	sq := sqs.NewFromConfig(srv.Config())
	if _, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("jobs")}); err != nil {
		t.Fatal(err)
	}
	env := func(name string) string {
		if name == "WHARF_ENDPOINT" {
			return srv.URL
		}
		return ""
	}

	var out, errOut strings.Builder
	if code := run([]string{"reset"}, env, &out, &errOut); code != 0 {
		t.Fatalf("wharf reset: exit %d: %s", code, errOut.String())
	}
	if !strings.HasPrefix(out.String(), "reset ") || !strings.Contains(out.String(), "records deleted") {
		t.Errorf("wharf reset said %q", out.String())
	}
	if qs, err := sq.ListQueues(ctx, &sqs.ListQueuesInput{}); err != nil || len(qs.QueueUrls) != 0 {
		t.Errorf("queues after wharf reset: %v %+v", err, qs)
	}

	out.Reset()
	if code := run([]string{"clock", "advance", "2h"}, env, &out, &errOut); code != 0 {
		t.Fatalf("wharf clock advance 2h: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "2h0m0s ahead") {
		t.Errorf("wharf clock advance 2h said %q", out.String())
	}
	errOut.Reset()
	if code := run([]string{"reset", "--service", "nosuch"}, env, io.Discard, &errOut); code != 1 || !strings.Contains(errOut.String(), "HTTP 400") {
		t.Errorf("wharf reset --service nosuch: exit %d, stderr %q", code, errOut.String())
	}
	errOut.Reset()
	if code := run([]string{"reset", "--endpoint", "http://127.0.0.1:1"}, env, io.Discard, &errOut); code != 1 || !strings.Contains(errOut.String(), "is wharf running") {
		t.Errorf("wharf reset with nothing listening: exit %d, stderr %q", code, errOut.String())
	}
}
