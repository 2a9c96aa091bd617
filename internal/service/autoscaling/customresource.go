package autoscaling

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
)

// A custom resource is an application's own scalable thing behind an HTTP
// endpoint: its resource id is the endpoint's URL, which Application Auto
// Scaling reads with GET and scales with PATCH {"desiredCapacity": n}; both
// answer the resource as JSON, {"actualCapacity", "desiredCapacity",
// "scalingStatus", ...} ("Getting Started with Application Auto Scaling
// Custom Resources", aws/aws-auto-scaling-custom-resource). On AWS the URL
// is an API Gateway endpoint called with SigV4; wharf calls the URL as it is,
// unsigned, so a local service can be the resource.

const namespaceCustom = "custom-resource"

// customTimeout bounds each call to a custom resource's endpoint.
const customTimeout = 10 * time.Second

// customResource is the JSON a custom resource's endpoint answers.
type customResource struct {
	ActualCapacity  *float64 `json:"actualCapacity"`
	DesiredCapacity *float64 `json:"desiredCapacity"`
	ScalingStatus   string   `json:"scalingStatus"`
}

// customCapacity reads a custom resource's capacity: the capacity it was last
// asked for (as ECS's desired count is an ECS service's), else its actual one.
func (s *Service) customCapacity(ctx context.Context, url string) (int32, error) {
	r, err := s.callCustom(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	v := r.DesiredCapacity
	if v == nil {
		v = r.ActualCapacity
	}
	if v == nil || *v < 0 || math.IsNaN(*v) {
		return 0, apierr.Validation("The custom resource at %s answered no desiredCapacity or actualCapacity.", url)
	}
	return int32(min(math.Round(*v), math.MaxInt32)), nil
}

// setCustomCapacity asks a custom resource for a new desired capacity.
func (s *Service) setCustomCapacity(ctx context.Context, url string, to int32) error {
	body, err := json.Marshal(map[string]float64{"desiredCapacity": float64(to)})
	if err != nil {
		return err
	}
	r, err := s.callCustom(ctx, http.MethodPatch, url, body)
	if err != nil {
		return err
	}
	if r.ScalingStatus == "Failed" {
		return apierr.Validation("The custom resource at %s answered scalingStatus Failed.", url)
	}
	return nil
}

// callCustom sends one request to a custom resource's endpoint and decodes
// its answer. Failures are ValidationExceptions naming the endpoint, which a
// registration returns and a scaling activity records.
func (s *Service) callCustom(ctx context.Context, method, url string, body []byte) (*customResource, error) {
	ctx, cancel := context.WithTimeout(ctx, customTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, apierr.Validation("The custom resource id %s is not a URL wharf can call.", url)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.httpClient().Do(req)
	if err != nil {
		return nil, apierr.Validation("The custom resource at %s could not be reached: %v", url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, apierr.Validation("The custom resource at %s could not be read: %v", url, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, apierr.Validation("The custom resource at %s answered %s %s.", url, method, resp.Status)
	}
	var r customResource
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, apierr.Validation("The custom resource at %s answered %s with a body that is not its JSON: %v", url, method, err)
	}
	return &r, nil
}

func (s *Service) httpClient() *http.Client {
	if s.http != nil {
		return s.http
	}
	return http.DefaultClient
}

// customRoleARN is the service-linked role AWS gives custom resource targets.
func customRoleARN(account string) string {
	return fmt.Sprintf("arn:aws:iam::%s:role/aws-service-role/custom-resource.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_CustomResource", account)
}
