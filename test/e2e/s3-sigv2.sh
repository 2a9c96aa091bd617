#!/usr/bin/env bash
# SigV2 under --auth strict with a client nobody here wrote: boto3 signing
# S3 requests with signature_version "s3" (the HMAC-SHA1 scheme, which boto3
# still uses for S3 presigned URLs by default) is verified: the right secret
# works for PUT, GET, a listing and a presigned URL; a wrong secret is
# refused with SignatureDoesNotMatch, a bad x-amz-date with AccessDenied.
source "$(dirname "$0")/lib.sh"
wharf_start --ephemeral --auth strict --access-key AKIASIGV2E2E --secret-key sigv2secret

WHARF_ENDPOINT=$endpoint python3 - <<'PY' || fail "boto3 with SigV2 under --auth strict"
import os, urllib.request, urllib.error
import boto3, botocore.config
from botocore.exceptions import ClientError

def client(secret):
    return boto3.client("s3", endpoint_url=os.environ["WHARF_ENDPOINT"], region_name="us-east-1",
                        aws_access_key_id="AKIASIGV2E2E", aws_secret_access_key=secret,
                        config=botocore.config.Config(signature_version="s3", s3={"addressing_style": "path"}))

c = client("sigv2secret")
c.create_bucket(Bucket="sigv2")
c.put_object(Bucket="sigv2", Key="dir/a key.txt", Body=b"signed with v2", ContentType="text/plain", Metadata={"m": "1"})
assert c.get_object(Bucket="sigv2", Key="dir/a key.txt")["Body"].read() == b"signed with v2"
assert [o["Key"] for o in c.list_objects(Bucket="sigv2", Prefix="dir/")["Contents"]] == ["dir/a key.txt"]
c.put_object_tagging(Bucket="sigv2", Key="dir/a key.txt", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
assert c.get_object_tagging(Bucket="sigv2", Key="dir/a key.txt")["TagSet"] == [{"Key": "k", "Value": "v"}]

url = c.generate_presigned_url("get_object", Params={"Bucket": "sigv2", "Key": "dir/a key.txt"}, ExpiresIn=60)
assert "Signature=" in url and "AWSAccessKeyId=" in url, url
assert urllib.request.urlopen(url).read() == b"signed with v2"
try:
    urllib.request.urlopen(url.replace("Expires=", "Expires=1"))
    raise SystemExit("a presigned URL with its Expires changed was accepted")
except urllib.error.HTTPError as e:
    assert e.code == 403, e.code

def refused(cl, code, **headers):
    def add(params, **kw):
        params["headers"].update(headers)
    cl.meta.events.register("before-call.s3.PutObject", add)
    try:
        cl.put_object(Bucket="sigv2", Key="refused", Body=b"x")
    except ClientError as e:
        assert e.response["Error"]["Code"] == code, (code, e.response["Error"])
        return
    raise SystemExit("PutObject was accepted; want " + code)

refused(client("wrong secret"), "SignatureDoesNotMatch")
refused(client("sigv2secret"), "AccessDenied", **{"x-amz-date": "Bad Date"})
refused(client("sigv2secret"), "RequestTimeTooSkewed", **{"x-amz-date": "Tue, 07 Jul 2010 21:53:04 GMT"})
PY
echo "ok"
