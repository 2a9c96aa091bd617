package cloudwatch_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
)

// TestSDKHostileMetricMathIsRefused sends a 1 MB metric math expression
// nested 500,000 levels deep (it would overflow a recursive parser's stack)
// and the deepest one that fits in the model's 2048 characters: the first is
// a clean 400, the second is evaluated, and the server keeps serving.
func TestSDKHostileMetricMathIsRefused(t *testing.T) {
	c, _ := startWharf(t)
	ctx := context.Background()
	now := time.Now()
	query := func(expr string) error {
		_, err := c.GetMetricData(ctx, &cw.GetMetricDataInput{
			StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now),
			MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("e1"), Expression: aws.String(expr)}},
		})
		return err
	}
	nested := func(d int) string { return strings.Repeat("(", d) + "1" + strings.Repeat(")", d) }
	err := query(nested(500_000))
	var ae smithy.APIError
	var re *awshttp.ResponseError
	if !errors.As(err, &ae) || !errors.As(err, &re) || re.HTTPStatusCode() != 400 ||
		!strings.Contains(ae.ErrorMessage(), "Member must have length less than or equal to 2048") {
		t.Fatalf("1 MB expression: %v", err)
	}
	if err := query(nested(1023)); err != nil {
		t.Fatalf("the deepest nesting within 2048 characters: %v", err)
	}
	if _, err := c.ListMetrics(ctx, &cw.ListMetricsInput{}); err != nil {
		t.Fatalf("after the hostile request: %v", err)
	}
}
