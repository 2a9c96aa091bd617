package cbor_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdkcw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/awsapi/cloudwatch"
	"github.com/wharf-dev/wharf/internal/protocol"
	"github.com/wharf-dev/wharf/internal/protocol/cbor"
	"github.com/wharf-dev/wharf/internal/sdkhttp"
)

// serve is the smallest server a codec needs: operation, decode, handler, encode.
// It also records the request headers the SDK sent.
func serve(t *testing.T, c protocol.Codec, svc *awsapi.Service, handlers map[string]awsapi.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		const rid = "req-1"
		if got := protocol.Detect(svc, r); got != awsapi.ProtocolCBOR {
			t.Errorf("Detect = %q for %s %s", got, r.Method, r.URL.Path)
		}
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

func TestCloudWatchRoundTripOverCBOR(t *testing.T) {
	ts := time.Date(2024, 3, 4, 5, 6, 7, 250e6, time.UTC)
	var put *cloudwatch.PutMetricDataInput
	srv := serve(t, cbor.New(), cloudwatch.Service, map[string]awsapi.Handler{
		"PutMetricData": func(ctx context.Context, in any) (any, error) {
			put = in.(*cloudwatch.PutMetricDataInput)
			return nil, nil
		},
		"GetMetricData": func(ctx context.Context, in any) (any, error) {
			req := in.(*cloudwatch.GetMetricDataInput)
			if req.StartTime == nil || !req.StartTime.Equal(ts.Add(-time.Hour)) {
				t.Errorf("StartTime = %v", req.StartTime)
			}
			if len(req.MetricDataQueries) != 1 || awsapi.ToInt32(req.MetricDataQueries[0].MetricStat.Period) != 60 {
				t.Errorf("queries = %+v", req.MetricDataQueries)
			}
			return &cloudwatch.GetMetricDataOutput{MetricDataResults: []cloudwatch.MetricDataResult{{
				Id: aws.String("m1"), Label: aws.String("Backlog"), StatusCode: aws.String("Complete"),
				Timestamps: []time.Time{ts, ts.Add(time.Minute)}, Values: []float64{1.5, 42},
			}}}, nil
		},
		"DescribeAlarms": func(ctx context.Context, in any) (any, error) {
			return nil, &apierr.Error{Code: "InvalidNextToken", Message: "bad token"}
		},
	})
	client := sdkcw.NewFromConfig(aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       sdkhttp.Client(nil),
	}, func(o *sdkcw.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	ctx := context.Background()

	_, err := client.PutMetricData(ctx, &sdkcw.PutMetricDataInput{
		Namespace: aws.String("App"),
		MetricData: []cwtypes.MetricDatum{{
			MetricName: aws.String("Backlog"), Timestamp: &ts, Value: aws.Float64(3.25), Unit: cwtypes.StandardUnitCount,
			Dimensions:        []cwtypes.Dimension{{Name: aws.String("QueueName"), Value: aws.String("jobs")}},
			StorageResolution: aws.Int32(1),
		}},
	})
	if err != nil {
		t.Fatalf("PutMetricData: %v", err)
	}
	if put == nil || awsapi.ToString(put.Namespace) != "App" || len(put.MetricData) != 1 {
		t.Fatalf("PutMetricData input = %+v", put)
	}
	d := put.MetricData[0]
	if !d.Timestamp.Equal(ts) || *d.Value != 3.25 || awsapi.ToString(d.Unit) != "Count" || awsapi.ToInt32(d.StorageResolution) != 1 || awsapi.ToString(d.Dimensions[0].Value) != "jobs" {
		t.Errorf("datum = %+v (timestamp %v)", d, d.Timestamp)
	}

	got, err := client.GetMetricData(ctx, &sdkcw.GetMetricDataInput{
		StartTime: aws.Time(ts.Add(-time.Hour)), EndTime: &ts,
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("m1"), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String("App"), MetricName: aws.String("Backlog")}, Period: aws.Int32(60), Stat: aws.String("Sum")}}},
	})
	if err != nil {
		t.Fatalf("GetMetricData: %v", err)
	}
	r := got.MetricDataResults
	if len(r) != 1 || len(r[0].Timestamps) != 2 || !r[0].Timestamps[0].Equal(ts) || !r[0].Timestamps[1].Equal(ts.Add(time.Minute)) || r[0].Values[1] != 42 || r[0].StatusCode != cwtypes.StatusCodeComplete {
		t.Errorf("GetMetricData = %+v", r)
	}

	_, err = client.DescribeAlarms(ctx, &sdkcw.DescribeAlarmsInput{NextToken: aws.String("x")})
	var bad *cwtypes.InvalidNextToken
	if !errors.As(err, &bad) {
		t.Fatalf("DescribeAlarms error = %T %v, want *types.InvalidNextToken", err, err)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidNextToken" || apiErr.ErrorMessage() != "bad token" {
		t.Errorf("error code/message = %q/%q", apiErr.ErrorCode(), apiErr.ErrorMessage())
	}

	_, err = client.ListDashboards(ctx, &sdkcw.ListDashboardsInput{})
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "NotImplemented" {
		t.Errorf("unimplemented operation error = %v", err)
	}
}

func TestCloudWatchQueryCodeSurfacesThroughCBOR(t *testing.T) {
	srv := serve(t, cbor.New(), cloudwatch.Service, map[string]awsapi.Handler{
		"GetDashboard": func(ctx context.Context, in any) (any, error) {
			return nil, &apierr.Error{Code: "DashboardNotFoundError", Message: "no such dashboard"}
		},
	})
	client := sdkcw.NewFromConfig(aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       sdkhttp.Client(nil),
	}, func(o *sdkcw.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	_, err := client.GetDashboard(context.Background(), &sdkcw.GetDashboardInput{DashboardName: aws.String("d")})
	var nf *cwtypes.DashboardNotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("GetDashboard error = %T %v", err, err)
	}
	if nf.ErrorCode() != "ResourceNotFound" {
		t.Errorf("ErrorCode = %q, want the query code ResourceNotFound", nf.ErrorCode())
	}
}
