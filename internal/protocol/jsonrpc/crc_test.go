package jsonrpc

import (
	"hash/crc32"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	dynamodbapi "github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
)

// DynamoDB's SDKs check every response body against x-amz-crc32; other JSON
// services send no such header.
func TestDynamoDBResponsesCarryTheBodyCRC32(t *testing.T) {
	type out struct {
		TableNames []string `aws:"TableNames"`
	}
	for _, svc := range []*awsapi.Service{dynamodbapi.Service, ecsapi.Service} {
		id := svc.ID
		op := &awsapi.Operation{Name: "ListTables"}
		ok := httptest.NewRecorder()
		if err := (Codec{}).Encode(ok, httptest.NewRequest("POST", "/", nil), svc, op, &out{TableNames: []string{"a"}}, "rid"); err != nil {
			t.Fatal(err)
		}
		bad := httptest.NewRecorder()
		(Codec{}).EncodeError(bad, httptest.NewRequest("POST", "/", nil), svc, apierr.Validation("nope"), "rid")
		for _, rec := range []*httptest.ResponseRecorder{ok, bad} {
			got := rec.Header().Get("X-Amz-Crc32")
			want := strconv.FormatUint(uint64(crc32.ChecksumIEEE(rec.Body.Bytes())), 10)
			if id == "dynamodb" && got != want {
				t.Errorf("%s: x-amz-crc32 %q, want %q", id, got, want)
			}
			if id != "dynamodb" && got != "" {
				t.Errorf("%s: unexpected x-amz-crc32 %q", id, got)
			}
		}
	}
}
