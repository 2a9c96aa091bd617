package dynamodb

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	ddb "github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
)

// Server-side encryption as DynamoDB reports it. A table is always encrypted
// at rest; with SSE disabled (the default) the key is AWS owned and
// DescribeTable has no SSEDescription. With SSE enabled the key is KMS: the
// account's AWS managed key (alias aws/dynamodb) unless the request names a
// customer managed one ("Encryption at rest: How it works" and the
// SSESpecification docs). wharf encrypts nothing itself; it keeps and reports
// the setting, so a client that reads it back sees what it set.

// sse is a table's encryption setting; the zero value is the AWS owned key.
type sse struct {
	KMSKeyARN string `json:",omitempty"` // set when SSE is enabled (KMS)
}

// managedKeyARN is the account's AWS managed DynamoDB key in region. AWS
// makes one per account and region; wharf derives a stable key id from both.
func managedKeyARN(account, region string) string {
	h := sha256.Sum256([]byte("aws/dynamodb\x00" + account + "\x00" + region))
	id := hex.EncodeToString(h[:16])
	return "arn:aws:kms:" + region + ":" + account + ":key/" + uuidFromID(id)
}

// sseFrom reads an SSESpecification. A key named by id or alias becomes an
// ARN in the caller's account and region, as DynamoDB reports it.
func sseFrom(spec *ddb.SSESpecification, account, region string) (sse, error) {
	if spec == nil {
		return sse{}, nil
	}
	typ := awsapi.ToString(spec.SSEType)
	if typ != "" && typ != "KMS" && typ != "AES256" {
		return sse{}, apierr.Validation("1 validation error detected: Value '%s' at 'sSESpecification.sSEType' failed to satisfy constraint: Member must satisfy enum value set: [AES256, KMS]", typ)
	}
	if !awsapi.ToBool(spec.Enabled) {
		if spec.KMSMasterKeyId != nil || typ != "" {
			return sse{}, invalid("SSEType and KMSMasterKeyId cannot be specified when SSE is disabled")
		}
		return sse{}, nil
	}
	if typ == "AES256" {
		return sse{}, invalid("Server-Side Encryption type AES256 is not supported; use KMS")
	}
	key := awsapi.ToString(spec.KMSMasterKeyId)
	switch {
	case key == "" || key == "alias/aws/dynamodb":
		return sse{KMSKeyARN: managedKeyARN(account, region)}, nil
	case strings.HasPrefix(key, "arn:"):
		return sse{KMSKeyARN: key}, nil
	default: // a key id or an alias name
		if !strings.HasPrefix(key, "alias/") {
			key = "key/" + key
		}
		return sse{KMSKeyARN: "arn:aws:kms:" + region + ":" + account + ":" + key}, nil
	}
}

// description is DescribeTable's SSEDescription, nil for the AWS owned key.
func (e sse) description() *ddb.SSEDescription {
	if e.KMSKeyARN == "" {
		return nil
	}
	return &ddb.SSEDescription{Status: awsapi.String("ENABLED"), SSEType: awsapi.String("KMS"), KMSMasterKeyArn: awsapi.String(e.KMSKeyARN)}
}
