package restjson_test

import (
	"bytes"
	"net/http"
	"net/url"
	"testing"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/awsapi/scheduler"
	"github.com/wharf-dev/wharf/internal/protocol/restjson"
)

// FuzzRestJSONDecode routes and decodes arbitrary method, path, query, header
// and body against Scheduler's model and the test shapes. Decoding runs without
// its last-line recover so a panic fails the fuzzer; every failure must be an
// *apierr.Error.
func FuzzRestJSONDecode(f *testing.F) {
	for _, s := range []struct{ method, uri, header, body string }{
		// Requests as aws-sdk-go-v2 sends them.
		{"POST", "/schedules/nightly%20batch%2F%C3%A9", "", `{"ClientToken":"c2d3","FlexibleTimeWindow":{"Mode":"OFF"},"ScheduleExpression":"rate(1 hour)","StartDate":1.893553445E9,"Target":{"Arn":"arn:aws:sqs:us-east-1:000000000000:q","RetryPolicy":{"MaximumRetryAttempts":0},"RoleArn":"arn:aws:iam::000000000000:role/r"}}`},
		{"GET", "/schedules/nightly?groupName=grp", "", ""},
		{"GET", "/schedules?MaxResults=7&NamePrefix=night&State=ENABLED", "", ""},
		{"DELETE", "/tags/arn%3Aaws%3Ascheduler%3Aus-east-1%3A000000000000%3Aschedule-group%2Fgrp?TagKeys=a&TagKeys=b%20c", "", ""},
		{"GET", "/b/dir/a%20b?tag=x&limit=5&verbose=true&other=1", "Wed, 21 Oct 2015 07:28:00 GMT", `{"note":"n"}`},
		{"PUT", "/configs/c", "", `{"size":7}`},
		{"GET", "/b/%zz", "", "{"},
	} {
		f.Add(s.method, s.uri, s.header, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, method, uri, header string, body []byte) {
		u, err := url.ParseRequestURI(uri)
		if err != nil || !validMethod(method) {
			return
		}
		for _, svc := range []*awsapi.Service{scheduler.Service, testService} {
			r, err := http.NewRequest(method, "http://127.0.0.1"+u.RequestURI(), bytes.NewReader(body))
			if err != nil {
				return
			}
			r.Header.Set("If-Modified-Since", header)
			r.Header.Set("x-policy", header)
			r.Header.Set("x-flags", header)
			c := restjson.New()
			o, err := c.Operation(svc, r)
			if err != nil {
				if apierr.As(err) == nil {
					t.Fatalf("Operation: non-API error %v", err)
				}
				continue
			}
			if err := restjson.DecodeNoRecover(svc, o, r, o.NewInput()); err != nil && apierr.As(err) == nil {
				t.Fatalf("Decode %s %s: non-API error %v", method, uri, err)
			}
		}
	})
}

func validMethod(m string) bool {
	switch m {
	case "GET", "PUT", "POST", "DELETE", "PATCH", "HEAD":
		return true
	}
	return false
}
