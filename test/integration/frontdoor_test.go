package integration

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
)

// rawCall sends an unsigned request to wharf and returns status, headers and body.
func rawCall(t *testing.T, method, url string, header map[string]string, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestFrontDoorAnswersEveryMistakeWithAnAWSError checks that requests wharf cannot
// serve get the AWS error for the mistake, in the protocol the client spoke, with a
// request id; never a 404 page or a crash.
func TestFrontDoorAnswersEveryMistakeWithAnAWSError(t *testing.T) {
	ep := start(t)
	jsonHeaders := func(target string) map[string]string {
		return map[string]string{"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"}
	}
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	tests := []struct {
		name     string
		method   string
		path     string
		header   map[string]string
		body     string
		status   int
		code     string
		jsonBody bool
	}{
		{"unknown json operation", "POST", "/", jsonHeaders("DynamoDB_20120810.FlyToTheMoon"), "{}", 400, "UnknownOperationException", true},
		{"unknown json service", "POST", "/", jsonHeaders("NoSuchService_2020.Op"), "{}", 400, "UnknownService", true},
		{"malformed json", "POST", "/", jsonHeaders("AmazonSQS.ListQueues"), "{not json", 400, "SerializationException", true},
		{"wrong json type", "POST", "/", jsonHeaders("AmazonSQS.ListQueues"), `{"MaxResults":"ten"}`, 400, "SerializationException", true},
		{"unknown query action", "POST", "/", form, "Action=FlyToTheMoon&Version=2011-06-15", 400, "InvalidAction", false},
		{"malformed query value", "POST", "/", form, "Action=ListUsers&Version=2010-05-08&MaxItems=many", 400, "", false},
		{"s3 method without route", "PATCH", "/bucket/key", nil, "", 405, "MethodNotAllowed", false},
		{"not implemented yet (global tables)", "POST", "/", jsonHeaders("DynamoDB_20120810.ListGlobalTables"), `{}`, 501, "NotImplemented", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, body := rawCall(t, tt.method, ep+tt.path, tt.header, tt.body)
			if status != tt.status {
				t.Errorf("status %d, want %d; body %s", status, tt.status, body)
			}
			if h.Get("X-Amzn-Requestid") == "" && h.Get("X-Amz-Request-Id") == "" {
				t.Errorf("no request id header in %v", h)
			}
			var code string
			if tt.jsonBody {
				var e struct {
					Type string `json:"__type"`
				}
				if err := json.Unmarshal([]byte(body), &e); err != nil {
					t.Fatalf("error body is not JSON: %q", body)
				}
				code = e.Type[strings.LastIndex(e.Type, "#")+1:]
			} else {
				var e struct {
					Code  string `xml:"Code"`
					Error struct {
						Code string `xml:"Code"`
					} `xml:"Error"`
				}
				if err := xml.Unmarshal([]byte(body), &e); err != nil {
					t.Fatalf("error body is not XML: %q", body)
				}
				code = e.Code + e.Error.Code
			}
			if code == "" || (tt.code != "" && code != tt.code) {
				t.Errorf("code %q, want %q; body %s", code, tt.code, body)
			}
		})
	}
}

func TestHealthListsEveryService(t *testing.T) {
	ep := start(t)
	status, _, body := rawCall(t, "GET", ep+"/_wharf/health", nil, "")
	var h struct {
		Status   string
		Services map[string]struct {
			State       string
			Implemented int
		}
	}
	if err := json.Unmarshal([]byte(body), &h); err != nil || status != 200 || h.Status != "running" {
		t.Fatalf("health %d %q: %v", status, body, err)
	}
	if len(h.Services) != 14 {
		t.Errorf("%d services, want 14", len(h.Services))
	}
	if s := h.Services["s3control"]; s.State != "running" || s.Implemented != 3 {
		t.Errorf("s3control health %+v", s)
	}
	if s := h.Services["dynamodbstreams"]; s.State != "running" || s.Implemented != 4 {
		t.Errorf("dynamodbstreams health %+v", s)
	}
	if s := h.Services["sts"]; s.State != "running" || s.Implemented < 3 {
		t.Errorf("sts health %+v", s)
	}
}
