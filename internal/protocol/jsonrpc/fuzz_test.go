package jsonrpc_test

import (
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	"github.com/wharf-dev/wharf/internal/awsapi/ecs"
	"github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/protocol/jsonrpc"
)

// FuzzJSONDecode feeds arbitrary bodies to the decoder (without Decode's recover,
// so a panic fails the fuzzer) for inputs with recursion, blobs, maps and
// timestamps. Every failure must be an *apierr.Error.
func FuzzJSONDecode(f *testing.F) {
	for _, seed := range []string{
		// Bodies as aws-sdk-go-v2 sends them.
		`{"QueueUrl":"http://127.0.0.1:4566/000000000000/jobs","MessageBody":"hi","DelaySeconds":5,"MessageAttributes":{"bin":{"DataType":"Binary","BinaryValue":"AAEC/w=="}}}`,
		`{"TableName":"t","Item":{"pk":{"S":"id-1"},"n":{"N":"42.5"},"nest":{"M":{"list":{"L":[{"NULL":true},{"SS":["a","b"]},{"BS":["AA=="]}]}}}}}`,
		`{"family":"web","containerDefinitions":[{"name":"app","image":"scratch","memory":128,"portMappings":[{"containerPort":80}],"environment":[{"name":"A","value":"1"}]}]}`,
		`{"cluster":"c","tasks":["arn:aws:ecs:us-east-1:000000000000:task/c/1"],"include":["TAGS"]}`,
		`{"Item":{"a":` + strings.Repeat(`{"L":[`, 600) + `{"S":"x"}` + strings.Repeat("]}", 600) + `}}`,
		"{\"MessageBody\":\"\xff\"}", `{"MessageBody":"[[[[{{{{\"]]"}`,
		`{}`, ``, `null`, `[]`, `{"Item":{"a":{"M":{"b":{"M":{}}}}}}`, `{"DelaySeconds":1e99}`, `{"MessageBody":"\ud800"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, in := range []any{new(sqs.SendMessageInput), new(dynamodb.PutItemInput), new(ecs.RegisterTaskDefinitionInput), new(testInput)} {
			if err := jsonrpc.Unmarshal(body, in, jsonrpc.Options{}); err != nil && apierr.As(err) == nil {
				t.Fatalf("Unmarshal(%q) into %T: non-API error %v", body, in, err)
			}
		}
	})
}
