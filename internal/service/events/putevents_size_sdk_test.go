package events_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// TestSDKPutEventsTakesEntriesUpTo1MB: EventBridge's PutEvents limit is 1 MB
// of entries since January 2026 (it was 256 KB). Through the server with the
// Go SDK: 900 KB of entries are accepted, more than 1 MB refused.
func TestSDKPutEventsTakesEntriesUpTo1MB(t *testing.T) {
	eb, _ := startWharf(t)
	ctx := context.Background()
	entry := func(detailBytes int) types.PutEventsRequestEntry {
		return types.PutEventsRequestEntry{Source: aws.String("app"), DetailType: aws.String("big"),
			Detail: aws.String(`{"a":"` + strings.Repeat("x", detailBytes) + `"}`)}
	}
	out, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{entry(450 << 10), entry(450 << 10)}})
	if err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("900 KB of entries: %v %+v", err, out)
	}
	if _, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{entry(600 << 10), entry(600 << 10)}}); err == nil ||
		!strings.Contains(err.Error(), "ValidationException") {
		t.Fatalf("1.2 MB of entries: %v, want ValidationException", err)
	}
}
