package autoscaling_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

// customEndpoint is an application's custom resource endpoint as the
// aws-auto-scaling-custom-resource API describes it: GET answers the
// resource, PATCH {"desiredCapacity": n} asks for a new capacity.
type customEndpoint struct {
	mu      sync.Mutex
	desired float64
	patches []float64
	fail    bool
}

func (e *customEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch r.Method {
	case http.MethodGet:
	case http.MethodPatch:
		if e.fail {
			http.Error(w, "backend down", http.StatusInternalServerError)
			return
		}
		var in struct{ DesiredCapacity *float64 }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.DesiredCapacity == nil {
			http.Error(w, "want {\"desiredCapacity\": n}", http.StatusBadRequest)
			return
		}
		e.desired = *in.DesiredCapacity
		e.patches = append(e.patches, e.desired)
	default:
		http.Error(w, "method", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"actualCapacity": e.desired, "desiredCapacity": e.desired, "dimensionName": "workers",
		"resourceName": "jobs", "scalableTargetDimensionId": "1-23456789", "scalingStatus": "Successful", "version": "1"})
}

func (e *customEndpoint) patched() []float64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]float64(nil), e.patches...)
}

// TestCustomResourceIsScaledThroughItsEndpoint: a custom-resource target is
// the application's endpoint: registering it reads its capacity with GET and
// brings it inside the new bounds with PATCH, a step scaling policy that a
// CloudWatch alarm (on a queue backlog metric) sets off
// scales it with PATCH, and an endpoint that fails the PATCH is recorded as a
// failed activity saying so.
func TestCustomResourceIsScaledThroughItsEndpoint(t *testing.T) {
	t.Parallel()
	ep := &customEndpoint{desired: 2}
	srv := httptest.NewServer(ep)
	defer srv.Close()
	resource := srv.URL + "/prod/scalableTargetDimensions/1-23456789"
	cfg := wharftest.Start(t).Config()
	c, cw := aas.NewFromConfig(cfg), cloudwatch.NewFromConfig(cfg)
	ctx := context.Background()
	const dim = aastypes.ScalableDimensionCustomResourceScalableDimension
	register := func(lo, hi int32) {
		t.Helper()
		if _, err := c.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceCustomResource,
			ResourceId: aws.String(resource), ScalableDimension: dim, MinCapacity: aws.Int32(lo), MaxCapacity: aws.Int32(hi)}); err != nil {
			t.Fatal(err)
		}
	}
	activity := func(description string) aastypes.ScalingActivity {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			out, err := c.DescribeScalingActivities(ctx, &aas.DescribeScalingActivitiesInput{ServiceNamespace: aastypes.ServiceNamespaceCustomResource,
				ResourceId: aws.String(resource), ScalableDimension: dim})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range out.ScalingActivities {
				if aws.ToString(a.Description) == description {
					return a
				}
			}
		}
		t.Fatalf("no activity %q", description)
		return aastypes.ScalingActivity{}
	}

	register(3, 10)
	if p := ep.patched(); len(p) != 1 || p[0] != 3 {
		t.Fatalf("PATCHes after registering with minimum 3 over a capacity of 2: %v, want [3]", p)
	}
	if a := activity("Setting desired capacity to 3."); a.StatusCode != aastypes.ScalingActivityStatusCodeSuccessful {
		t.Errorf("registration's activity: %s %s", a.StatusCode, aws.ToString(a.StatusMessage))
	}
	d, err := c.DescribeScalableTargets(ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: aastypes.ServiceNamespaceCustomResource})
	if err != nil || len(d.ScalableTargets) != 1 || aws.ToString(d.ScalableTargets[0].ResourceId) != resource ||
		!strings.HasSuffix(aws.ToString(d.ScalableTargets[0].RoleARN), "/custom-resource.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_CustomResource") {
		t.Errorf("DescribeScalableTargets: %v %+v", err, d)
	}

	p, err := c.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{PolicyName: aws.String("add-two"), ServiceNamespace: aastypes.ServiceNamespaceCustomResource,
		ResourceId: aws.String(resource), ScalableDimension: dim, PolicyType: aastypes.PolicyTypeStepScaling,
		StepScalingPolicyConfiguration: &aastypes.StepScalingPolicyConfiguration{AdjustmentType: aastypes.AdjustmentTypeChangeInCapacity,
			StepAdjustments: []aastypes.StepAdjustment{{MetricIntervalLowerBound: aws.Float64(0), ScalingAdjustment: aws.Int32(2)}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("backlog-high"), Namespace: aws.String("Jobs/SQS"),
		MetricName: aws.String("ApproximateNumberOfMessagesVisible"), Dimensions: []cwtypes.Dimension{{Name: aws.String("QueueName"), Value: aws.String("jobs")}},
		Statistic: cwtypes.StatisticMaximum, Period: aws.Int32(10), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(100),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, AlarmActions: []string{aws.ToString(p.PolicyARN)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("Jobs/SQS"), MetricData: []cwtypes.MetricDatum{{
		MetricName: aws.String("ApproximateNumberOfMessagesVisible"), Dimensions: []cwtypes.Dimension{{Name: aws.String("QueueName"), Value: aws.String("jobs")}},
		Value: aws.Float64(500), StorageResolution: aws.Int32(1)}}}); err != nil {
		t.Fatal(err)
	}
	if a := activity("Setting desired capacity to 5."); a.StatusCode != aastypes.ScalingActivityStatusCodeSuccessful ||
		aws.ToString(a.Cause) != "monitor alarm backlog-high in state ALARM triggered policy add-two" {
		t.Errorf("alarm's activity: %s %q %s", a.StatusCode, aws.ToString(a.Cause), aws.ToString(a.StatusMessage))
	}
	if p := ep.patched(); len(p) != 2 || p[1] != 5 {
		t.Errorf("PATCHes after the alarm: %v, want [3 5]", p)
	}

	ep.mu.Lock()
	ep.fail = true
	ep.mu.Unlock()
	register(7, 10)
	if a := activity("Setting desired capacity to 7."); a.StatusCode != aastypes.ScalingActivityStatusCodeFailed ||
		!strings.Contains(aws.ToString(a.StatusMessage), "500") {
		t.Errorf("activity of a PATCH the endpoint failed: %s %s", a.StatusCode, aws.ToString(a.StatusMessage))
	}
}
