package restjson_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdksched "github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/awsapi/scheduler"
	"github.com/wharf-dev/wharf/internal/protocol"
	"github.com/wharf-dev/wharf/internal/protocol/restjson"
	"github.com/wharf-dev/wharf/internal/sdkhttp"
)

// serve is the smallest server a codec needs: operation, decode, handler, encode.
func serve(t *testing.T, c protocol.Codec, svc *awsapi.Service, handlers map[string]awsapi.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		const rid = "req-1"
		fail := func(err error) {
			e := apierr.As(err)
			if e == nil {
				t.Errorf("codec returned a non-API error: %v", err)
				e = apierr.Internal()
			}
			c.EncodeError(w, r, svc, e, rid)
		}
		op, err := c.Operation(svc, r)
		if err != nil {
			fail(err)
			return
		}
		in := op.NewInput()
		if err := c.Decode(svc, op, r, in); err != nil {
			fail(err)
			return
		}
		h := handlers[op.Name]
		if h == nil {
			fail(apierr.NotImplemented(svc.ServiceID, op.Name))
			return
		}
		out, err := h(r.Context(), in)
		if err != nil {
			fail(err)
			return
		}
		if err := c.Encode(w, r, svc, op, out, rid); err != nil {
			t.Errorf("encode: %v", err)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSchedulerRoundTrip(t *testing.T) {
	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	schedules := map[string]*scheduler.CreateScheduleInput{}
	var untagged *scheduler.UntagResourceInput
	var listed *scheduler.ListSchedulesInput
	srv := serve(t, restjson.New(), scheduler.Service, map[string]awsapi.Handler{
		"CreateSchedule": func(ctx context.Context, in any) (any, error) {
			req := in.(*scheduler.CreateScheduleInput)
			schedules[*req.Name] = req
			return &scheduler.CreateScheduleOutput{ScheduleArn: aws.String("arn:aws:scheduler:us-east-1:000000000000:schedule/default/" + *req.Name)}, nil
		},
		"GetSchedule": func(ctx context.Context, in any) (any, error) {
			req := in.(*scheduler.GetScheduleInput)
			s := schedules[*req.Name]
			if s == nil {
				return nil, &apierr.Error{Code: "ResourceNotFoundException", Message: "Schedule " + *req.Name + " does not exist."}
			}
			return &scheduler.GetScheduleOutput{Name: s.Name, GroupName: req.GroupName, StartDate: s.StartDate, ScheduleExpression: s.ScheduleExpression, Target: s.Target, FlexibleTimeWindow: s.FlexibleTimeWindow}, nil
		},
		"ListSchedules": func(ctx context.Context, in any) (any, error) {
			listed = in.(*scheduler.ListSchedulesInput)
			return &scheduler.ListSchedulesOutput{Schedules: []scheduler.ScheduleSummary{}}, nil
		},
		"UntagResource": func(ctx context.Context, in any) (any, error) {
			untagged = in.(*scheduler.UntagResourceInput)
			return &scheduler.UntagResourceOutput{}, nil
		},
	})
	client := sdksched.NewFromConfig(aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       sdkhttp.Client(nil),
	}, func(o *sdksched.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	ctx := context.Background()

	name := "nightly batch/é" // a label needing percent-encoding
	cr, err := client.CreateSchedule(ctx, &sdksched.CreateScheduleInput{
		Name:               aws.String(name),
		ScheduleExpression: aws.String("rate(1 hour)"),
		StartDate:          &start,
		FlexibleTimeWindow: &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff},
		Target: &schedtypes.Target{Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:q"), RoleArn: aws.String("arn:aws:iam::000000000000:role/r"),
			RetryPolicy: &schedtypes.RetryPolicy{MaximumRetryAttempts: aws.Int32(0)}},
	})
	if err != nil {
		t.Fatalf("CreateSchedule: %v", err)
	}
	if !strings.HasSuffix(aws.ToString(cr.ScheduleArn), name) {
		t.Errorf("ScheduleArn = %q", aws.ToString(cr.ScheduleArn))
	}
	s := schedules[name]
	if s == nil {
		t.Fatalf("handler saw schedules %v, want %q", schedules, name)
	}
	if s.ClientToken == nil || *s.ClientToken == "" {
		t.Errorf("idempotency token not decoded")
	}
	if s.Target.RetryPolicy == nil || awsapi.ToInt32(s.Target.RetryPolicy.MaximumRetryAttempts) != 0 || s.Target.RetryPolicy.MaximumRetryAttempts == nil {
		t.Errorf("explicit zero retry attempts lost: %+v", s.Target.RetryPolicy)
	}

	got, err := client.GetSchedule(ctx, &sdksched.GetScheduleInput{Name: aws.String(name), GroupName: aws.String("grp")})
	if err != nil {
		t.Fatalf("GetSchedule: %v", err)
	}
	if aws.ToString(got.GroupName) != "grp" || !aws.ToTime(got.StartDate).Equal(start) || aws.ToString(got.Target.RoleArn) != "arn:aws:iam::000000000000:role/r" || got.FlexibleTimeWindow.Mode != schedtypes.FlexibleTimeWindowModeOff {
		t.Errorf("GetSchedule = %+v", got)
	}

	_, err = client.GetSchedule(ctx, &sdksched.GetScheduleInput{Name: aws.String("missing")})
	var nf *schedtypes.ResourceNotFoundException
	if !errors.As(err, &nf) || aws.ToString(nf.Message) != "Schedule missing does not exist." {
		t.Errorf("GetSchedule(missing) error = %T %v", err, err)
	}

	if _, err := client.ListSchedules(ctx, &sdksched.ListSchedulesInput{NamePrefix: aws.String("night"), MaxResults: aws.Int32(7), State: schedtypes.ScheduleStateEnabled}); err != nil {
		t.Fatalf("ListSchedules: %v", err)
	}
	if awsapi.ToString(listed.NamePrefix) != "night" || awsapi.ToInt32(listed.MaxResults) != 7 || awsapi.ToString(listed.State) != "ENABLED" {
		t.Errorf("ListSchedules input = %+v", listed)
	}

	arn := "arn:aws:scheduler:us-east-1:000000000000:schedule-group/grp"
	if _, err := client.UntagResource(ctx, &sdksched.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"a", "b c"}}); err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	if awsapi.ToString(untagged.ResourceArn) != arn || strings.Join(untagged.TagKeys, "|") != "a|b c" {
		t.Errorf("UntagResource input = %v %v", awsapi.ToString(untagged.ResourceArn), untagged.TagKeys)
	}

	_, err = client.DeleteSchedule(ctx, &sdksched.DeleteScheduleInput{Name: aws.String("x")})
	if err == nil || !strings.Contains(err.Error(), "NotImplemented") {
		t.Errorf("unimplemented operation error = %v", err)
	}
}

func TestNoRouteIsAnAWSErrorWithJSONBody(t *testing.T) {
	srv := serve(t, restjson.New(), scheduler.Service, nil)
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/no/such/path", 404},
		{"PATCH", "/schedules/x", 405},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var m map[string]any
		if resp.StatusCode != tc.status || resp.Header.Get("X-Amzn-ErrorType") != "UnknownOperationException" || json.Unmarshal(body, &m) != nil || m["message"] == "" {
			t.Errorf("%s %s = %d %q %s", tc.method, tc.path, resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), body)
		}
	}
}
