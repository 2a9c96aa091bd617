package sns_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdksns "github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// TestSDKHostileFilterPoliciesAreRefused subscribes with a body filter policy
// nested one level past the pattern compiler's bound and with one over SNS's
// 256 KB: both get InvalidParameter, the deepest allowed policy is accepted,
// and the server keeps serving.
func TestSDKHostileFilterPoliciesAreRefused(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	topic := c.topic(t, "hostile", nil)
	_, queueARN := c.queue(t, "hostile", nil)
	deep := func(d int) string { return strings.Repeat(`{"a":`, d) + `["x"]` + strings.Repeat("}", d) }
	subscribe := func(policy string) error {
		_, err := c.sns.Subscribe(ctx, &sdksns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("sqs"), Endpoint: aws.String(queueARN),
			Attributes: map[string]string{"FilterPolicyScope": "MessageBody", "FilterPolicy": policy}})
		return err
	}
	for name, policy := range map[string]string{
		"nested 1001 levels": deep(1000), // 1000 objects and the array
		"larger than 256 KB": `{"a":["` + strings.Repeat("x", 256<<10) + `"]}`,
	} {
		var bad *snstypes.InvalidParameterException
		if err := subscribe(policy); !errors.As(err, &bad) {
			t.Errorf("%s: %v, want InvalidParameter", name, err)
		}
	}
	if err := subscribe(deep(999)); err != nil {
		t.Fatalf("the deepest policy allowed: %v", err)
	}
	if _, err := c.sns.ListTopics(ctx, &sdksns.ListTopicsInput{}); err != nil {
		t.Fatal(err)
	}
}
