package apierr

import (
	"strings"
	"testing"
)

// SDKs retry 500, 502, 503 and 504 whatever the code (and S3's SlowDown as
// throttling), so every service's answer must be one of those, a server
// fault, and say why.
func TestUnavailableIsAServerFaultSDKsRetry(t *testing.T) {
	for _, svc := range []string{"s3", "sqs", "sns", "dynamodb", "events", "scheduler", "ecs", "logs", "iam",
		"cloudwatch", "application-autoscaling", "sts", "a-service-not-in-the-table"} {
		e := Unavailable(svc, "the disk is full")
		if (e.Status != 500 && e.Status != 503) || !e.Receiver || e.Code == "" || !strings.HasSuffix(e.Message, "(the disk is full)") {
			t.Errorf("%s: %+v", svc, e)
		}
	}
	if e := Unavailable("s3", ""); e.Code != "SlowDown" || e.Status != 503 {
		t.Errorf("s3: %+v, want SlowDown 503", e)
	}
	// The table's entries are copied, never changed.
	Unavailable("dynamodb", "x")
	if e := Unavailable("dynamodb", ""); e.Message != "Internal server error" {
		t.Errorf("dynamodb message changed to %q", e.Message)
	}
}
