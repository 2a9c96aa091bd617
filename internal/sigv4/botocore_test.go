package sigv4

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// botocoreSign signs the named requests with botocore's own signers
// (SigV4Auth, S3SigV4Auth, SigV4QueryAuth, S3SigV4QueryAuth) for a server at
// base, and prints them as JSON.
const botocoreSign = `
import base64, json, sys
from urllib.parse import quote
from botocore.auth import SigV4Auth, S3SigV4Auth, SigV4QueryAuth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

base, access, secret = sys.argv[1:4]
creds = Credentials(access, secret, "botocore-token")
key = quote("dir/ä b+c(1)~!.txt", safe="/~")
cases = {
    "query POST": (SigV4Auth(creds, "sqs", "us-east-1"), "POST", "/", "Action=ListQueues&Version=2012-11-05",
                   {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}),
    "json POST": (SigV4Auth(creds, "dynamodb", "eu-central-1"), "POST", "/", '{"TableName": "t"}',
                  {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.DescribeTable"}),
    "rest-json path": (SigV4Auth(creds, "scheduler", "us-east-1"), "GET", "/schedules/" + quote("my schedule", safe="") + "?groupName=" + quote("a b", safe=""), "", {}),
    "s3 PUT": (S3SigV4Auth(creds, "s3", "us-east-1"), "PUT", "/bucket/" + key, "object bytes", {"Content-Type": "text/plain"}),
    # A request that carries a Date header is signed with it, as
    # email.utils.formatdate writes it ("-0000"), and without X-Amz-Date.
    "s3 PUT with Date": (S3SigV4Auth(creds, "s3", "us-east-1"), "PUT", "/bucket/dated", "x", {"Date": "set by the signer"}),
    "s3 presigned GET": (S3SigV4QueryAuth(creds, "s3", "us-east-1", expires=300), "GET", "/bucket/" + key + "?versionId=v%2F1", "", {}),
    "sts presigned GET": (SigV4QueryAuth(creds, "sts", "us-east-1", expires=60), "GET", "/?Action=GetCallerIdentity&Version=2011-06-15", "", {}),
}
out = {}
for name, (signer, method, path, body, headers) in cases.items():
    req = AWSRequest(method=method, url=base + path, data=body.encode(), headers=headers)
    signer.add_auth(req)
    p = req.prepare()
    b = p.body or b""
    if isinstance(b, str):
        b = b.encode()
    out[name] = {"method": p.method, "url": p.url, "headers": dict(p.headers.items()), "body": base64.b64encode(b).decode()}
print(json.dumps(out))
`

type botocoreRequest struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

func TestVerifyAcceptsBotocoreSignatures(t *testing.T) {
	// .ci/run installs python3 and botocore: a machine without them fails
	// the test rather than skipping it, unless WHARF_NO_BOTOCORE=1 says so.
	python, err := exec.LookPath("python3")
	if err == nil && exec.Command(python, "-c", "import botocore").Run() != nil {
		err = errors.New("botocore is not installed")
	}
	if err != nil {
		if os.Getenv("WHARF_NO_BOTOCORE") == "1" {
			t.Skip("WHARF_NO_BOTOCORE=1:", err)
		}
		t.Fatalf("python3 with botocore is needed (install python3-boto3, or set WHARF_NO_BOTOCORE=1 to skip): %v", err)
	}
	for label, secret := range map[string]string{"right secret": testSecret, "wrong secret": "a-different-secret"} {
		t.Run(label, func(t *testing.T) { verifyBotocore(t, python, secret) })
	}
}

func verifyBotocore(t *testing.T, python, secret string) {
	base, seen := verifier(t, wallClock, secret)
	out, err := exec.Command(python, "-c", botocoreSign, base, testAccessKey, testSecret).Output()
	if err != nil {
		t.Fatalf("botocore: %v", err)
	}
	var reqs map[string]botocoreRequest
	if err := json.Unmarshal(out, &reqs); err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 7 {
		t.Fatalf("botocore signed %d requests", len(reqs))
	}
	for name, br := range reqs {
		t.Run(name, func(t *testing.T) {
			body, _ := base64.StdEncoding.DecodeString(br.Body)
			req, err := http.NewRequest(br.Method, br.URL, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range br.Headers {
				req.Header.Set(k, v)
			}
			if name == "s3 PUT with Date" && (req.Header.Get("X-Amz-Date") != "" || !strings.HasSuffix(req.Header.Get("Date"), " -0000")) {
				t.Fatalf("botocore no longer signs with a numeric-zone Date: %v", req.Header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			o := receive(t, seen)
			if secret != testSecret {
				wantCode(t, o.err, "SignatureDoesNotMatch")
				return
			}
			wantCode(t, o.err, "")
			if o.cred.SecurityToken != "botocore-token" || string(o.body) != string(body) {
				t.Fatalf("credential %+v, body %q", o.cred, o.body)
			}
		})
	}
}
