package cbor_test

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi/cloudwatch"
	"github.com/wharf-dev/wharf/internal/protocol/cbor"
)

// FuzzCBORDecode feeds arbitrary bodies to Unmarshal (which has no recover, so a
// panic fails the fuzzer). Every failure must be an *apierr.Error.
func FuzzCBORDecode(f *testing.F) {
	for _, seed := range []string{
		// PutMetricData exactly as aws-sdk-go-v2 (cloudwatch v1.75.7) sent it, gunzipped:
		// {_ "MetricData": [_ {_ "MetricName": "B", "Timestamp": 1(1700000000.0), "Value": 3.25}], "Namespace": "App"}
		"bf6a4d6574726963446174619fbf6a4d65747269634e616d6561426954696d657374616d70c1fb41d954fc400000006556616c7565fb400a000000000000ffff694e616d65737061636563417070ff",
		"a0", "", "f6", "80", "bf ff",
		strings.Repeat("81", 70) + "01",   // arrays nested past MaxNestedLevels
		"a1694e616d657370616365" + "61ff", // {"Namespace": invalid UTF-8}
		"a1674d65747269634461746181a1695469" + "6d657374616d70c11a65536c00",
		"a16a4d657472696344617461" + "9f" + "a1665661" + "6c756573" + "82f93e00fb7ff8000000000000" + "ff",
	} {
		b, err := hex.DecodeString(removeSpaces(seed))
		if err != nil {
			f.Fatalf("seed %q: %v", seed, err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, in := range []any{new(cloudwatch.PutMetricDataInput), new(cloudwatch.GetMetricDataInput), new(datum)} {
			if err := cbor.Unmarshal(body, in); err != nil && apierr.As(err) == nil {
				t.Fatalf("Unmarshal(%x) into %T: non-API error %v", body, in, err)
			}
		}
	})
}

func removeSpaces(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' {
			out = append(out, s[i])
		}
	}
	return string(out)
}
