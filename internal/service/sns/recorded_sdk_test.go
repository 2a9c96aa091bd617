package sns_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdksns "github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"
)

// TestSDKErrorsInTheWordsSNSRecorded: SNS's answers as localstack's
// AWS-validated snapshots recorded them — SetSubscriptionAttributes words an
// attribute's error without Subscribe's "Attributes Reason: ", a RedrivePolicy
// needs a dead-letter ARN, a SubscriptionArn that is a topic's lacks the
// SubscriptionId, PublishBatch names a bad entry id, duplicated tag keys are
// refused, a push endpoint that does not exist is no endpoint found, and a
// missing required SubscriptionArn is an InvalidParameter.
func TestSDKErrorsInTheWordsSNSRecorded(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	topic := c.topic(t, "recorded", nil)
	_, qarn := c.queue(t, "recorded-q", nil)
	sub := c.subscribe(t, topic, "sqs", qarn, nil)
	set := func(name, value string) error {
		_, err := c.sns.SetSubscriptionAttributes(ctx, &sdksns.SetSubscriptionAttributesInput{SubscriptionArn: aws.String(sub),
			AttributeName: aws.String(name), AttributeValue: aws.String(value)})
		return err
	}
	long := strings.Repeat("a", 81)
	for _, tc := range []struct {
		name, code, msg string
		err             error
	}{
		{"set an unknown attribute", "InvalidParameter", "Invalid parameter: AttributeName", set("FakeAttribute", "x")},
		{"set RawMessageDelivery", "InvalidParameter", "Invalid parameter: RawMessageDelivery: Invalid value [test-ValUe]. Must be true or false.", set("RawMessageDelivery", "test-ValUe")},
		{"set FilterPolicyScope", "InvalidParameter", "Invalid parameter: FilterPolicyScope: Invalid value [RandomValue]. Please use either MessageBody or MessageAttributes", set("FilterPolicyScope", "RandomValue")},
		{"set a RedrivePolicy without an ARN", "InvalidParameter", "Invalid parameter: RedrivePolicy: deadLetterTargetArn is an invalid arn", set("RedrivePolicy", `{"deadLetterTargetArn":"fake-arn"}`)},
		{"subscribe with a bad RawMessageDelivery", "InvalidParameter", "Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [wrongvalue]. Must be true or false.", func() error {
			_, err := c.sns.Subscribe(ctx, &sdksns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("sqs"), Endpoint: aws.String(qarn + "-2"),
				Attributes: map[string]string{"RawMessageDelivery": "wrongvalue"}})
			return err
		}()},
		{"subscribe with a bad filter policy", "InvalidParameter", "Invalid parameter: Attributes Reason: FilterPolicy: ", func() error {
			_, err := c.sns.Subscribe(ctx, &sdksns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("sqs"), Endpoint: aws.String(qarn + "-3"),
				Attributes: map[string]string{"FilterPolicy": `{"a": "not-a-list"}`}})
			return err
		}()},
		{"unsubscribe a topic's ARN", "InvalidParameter", "Invalid parameter: SubscriptionId", func() error {
			_, err := c.sns.Unsubscribe(ctx, &sdksns.UnsubscribeInput{SubscriptionArn: aws.String("arn:aws:sns:us-east-1:111111111111:random")})
			return err
		}()},
		{"unsubscribe a five-element ARN", "InvalidParameter", "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 5", func() error {
			_, err := c.sns.Unsubscribe(ctx, &sdksns.UnsubscribeInput{SubscriptionArn: aws.String("arn:aws:sns:us-east-1:random")})
			return err
		}()},
		{"batch id with a dot", "InvalidBatchEntryId", "The Id of a batch entry in the batch request contains an impermissible character: message.id", func() error {
			_, err := c.sns.PublishBatch(ctx, &sdksns.PublishBatchInput{TopicArn: aws.String(topic),
				PublishBatchRequestEntries: []snstypes.PublishBatchRequestEntry{{Id: aws.String("message.id"), Message: aws.String("m")}}})
			return err
		}()},
		{"batch id of 81 characters", "InvalidBatchEntryId", "The Id of a batch entry in the batch request is too long: " + long, func() error {
			_, err := c.sns.PublishBatch(ctx, &sdksns.PublishBatchInput{TopicArn: aws.String(topic),
				PublishBatchRequestEntries: []snstypes.PublishBatchRequestEntry{{Id: aws.String(long), Message: aws.String("m")}}})
			return err
		}()},
		{"duplicated tag keys", "InvalidParameter", "Invalid parameter: Duplicated keys are not allowed.", func() error {
			_, err := c.sns.TagResource(ctx, &sdksns.TagResourceInput{ResourceArn: aws.String(topic), Tags: []snstypes.Tag{
				{Key: aws.String("k1"), Value: aws.String("v1")}, {Key: aws.String("k2"), Value: aws.String("v2")}, {Key: aws.String("k2"), Value: aws.String("v2")}}})
			return err
		}()},
		{"publish to a push endpoint that does not exist", "InvalidParameter", "Invalid parameter: TargetArn Reason: No endpoint found for the target arn specified", func() error {
			_, err := c.sns.Publish(ctx, &sdksns.PublishInput{Message: aws.String("m"),
				TargetArn: aws.String("arn:aws:sns:us-east-1:000000000000:endpoint/APNS/abcdef/0f7d5971-aa8b-4bd5-b585-0826e9f93a66")})
			return err
		}()},
	} {
		var ae smithy.APIError
		if !errors.As(tc.err, &ae) || ae.ErrorCode() != tc.code || !strings.HasPrefix(ae.ErrorMessage(), tc.msg) {
			t.Errorf("%s: %v, want %s %q", tc.name, tc.err, tc.code, tc.msg)
		}
	}
	tags, err := c.sns.ListTagsForResource(ctx, &sdksns.ListTagsForResourceInput{ResourceArn: aws.String(topic)})
	if err != nil || len(tags.Tags) != 0 {
		t.Errorf("tags after a refused TagResource: %v %+v", err, tags)
	}

	// The SDK requires SubscriptionArn itself, so this request is sent as
	// boto3 sends it with parameter validation off.
	req, err := http.NewRequest(http.MethodPost, "http://"+c.addr, strings.NewReader("Action=Unsubscribe&Version=2010-03-31"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Amz-Date", now.Format("20060102T150405Z"))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/"+now.Format("20060102")+"/us-east-1/sns/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), "<Code>InvalidParameter</Code>") ||
		!strings.Contains(string(body), "<Message>Invalid parameter: SubscriptionArn Reason: no value for required parameter</Message>") {
		t.Errorf("Unsubscribe without SubscriptionArn: %d %s", resp.StatusCode, body)
	}
}
