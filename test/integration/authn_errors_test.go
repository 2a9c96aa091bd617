package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestUnknownKeyUnderStrictAuthIsEachServicesError: under --auth strict an
// access key wharf does not know is refused with the error each service
// answers on AWS: the JSON services (DynamoDB, ECS, CloudWatch Logs,
// EventBridge, Application Auto Scaling) a 400 UnrecognizedClientException;
// the query services, and SQS and CloudWatch, which speak JSON for query's
// sake, a 403 InvalidClientTokenId.
func TestUnknownKeyUnderStrictAuthIsEachServicesError(t *testing.T) {
	t.Parallel()
	endpoint := start(t, "--auth", "strict")
	cfg := awsConfig(endpoint, "AKIAUNKNOWNUNKNOWN00", "secret", "")
	const msg = "The security token included in the request is invalid."
	calls := []struct {
		name   string
		call   func(ctx context.Context) error
		code   string
		status int
	}{
		{"dynamodb", func(ctx context.Context) error {
			_, err := dynamodb.NewFromConfig(cfg).ListTables(ctx, &dynamodb.ListTablesInput{})
			return err
		}, "UnrecognizedClientException", 400},
		{"ecs", func(ctx context.Context) error {
			_, err := ecs.NewFromConfig(cfg).ListClusters(ctx, &ecs.ListClustersInput{})
			return err
		}, "UnrecognizedClientException", 400},
		{"logs", func(ctx context.Context) error {
			_, err := cloudwatchlogs.NewFromConfig(cfg).DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
			return err
		}, "UnrecognizedClientException", 400},
		{"events", func(ctx context.Context) error {
			_, err := eventbridge.NewFromConfig(cfg).ListRules(ctx, &eventbridge.ListRulesInput{})
			return err
		}, "UnrecognizedClientException", 400},
		{"application-autoscaling", func(ctx context.Context) error {
			_, err := applicationautoscaling.NewFromConfig(cfg).DescribeScalableTargets(ctx, &applicationautoscaling.DescribeScalableTargetsInput{ServiceNamespace: aastypes.ServiceNamespaceEcs})
			return err
		}, "UnrecognizedClientException", 400},
		{"sqs", func(ctx context.Context) error {
			_, err := sqs.NewFromConfig(cfg).ListQueues(ctx, &sqs.ListQueuesInput{})
			return err
		}, "InvalidClientTokenId", 403},
		{"cloudwatch", func(ctx context.Context) error {
			_, err := cloudwatch.NewFromConfig(cfg).ListMetrics(ctx, &cloudwatch.ListMetricsInput{})
			return err
		}, "InvalidClientTokenId", 403},
		{"sns", func(ctx context.Context) error {
			_, err := sns.NewFromConfig(cfg).ListTopics(ctx, &sns.ListTopicsInput{})
			return err
		}, "InvalidClientTokenId", 403},
		{"sts", func(ctx context.Context) error {
			_, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			return err
		}, "InvalidClientTokenId", 403},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			wantDenied(t, c.call(callTimeout(t)), c.code, c.status, msg)
		})
	}

	// Temporary credentials sent without their session token are not
	// recognised either.
	tok, err := sts.NewFromConfig(awsConfig(endpoint, "test", "test", "")).GetSessionToken(callTimeout(t), &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	noToken := awsConfig(endpoint, *tok.Credentials.AccessKeyId, *tok.Credentials.SecretAccessKey, "")
	_, err = dynamodb.NewFromConfig(noToken).ListTables(callTimeout(t), &dynamodb.ListTablesInput{})
	wantDenied(t, err, "UnrecognizedClientException", 400, msg)
	_, err = sqs.NewFromConfig(noToken).ListQueues(callTimeout(t), &sqs.ListQueuesInput{})
	wantDenied(t, err, "InvalidClientTokenId", 403, msg)
}

// TestDynamoDBUnknownKeyOnTheWire: DynamoDB's body names the error in the
// coral namespace, as AWS's does, so clients that read __type raw (not
// through an SDK) see what they see on AWS.
func TestDynamoDBUnknownKeyOnTheWire(t *testing.T) {
	t.Parallel()
	endpoint := start(t, "--auth", "strict")
	req, err := http.NewRequest("POST", endpoint+"/", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	req.Header.Set("X-Amz-Date", "20261206T120000Z")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAUNKNOWNUNKNOWN00/20261206/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=0000000000000000000000000000000000000000000000000000000000000000")
	resp, err := http.DefaultClient.Do(req.WithContext(callTimeout(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 400 || body.Type != "com.amazon.coral.service#UnrecognizedClientException" ||
		body.Message != "The security token included in the request is invalid." {
		t.Fatalf("status %d, body %+v", resp.StatusCode, body)
	}
}
