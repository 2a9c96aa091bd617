"""Many S3 PUTs on one boto3 client, empty and not, with errors in between.

boto3 sends every PutObject and UploadPart with Expect: 100-continue. The client
is built so that a stalled connection becomes an error this script reports
instead of a hidden 60-second wait and retry: no retries, so the read timeout
ends the script (it is generous, so a loaded machine is not mistaken for a
stall). Each response
must also say it took no retry. Prints "ok N" with the number of requests made.
"""
import os
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint = os.environ["WHARF_ENDPOINT"]
c = boto3.client(
    "s3",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="test",
    aws_secret_access_key="test",
    config=Config(
        read_timeout=30,
        connect_timeout=5,
        retries={"total_max_attempts": 1, "mode": "standard"},
        max_pool_connections=1,
    ),
)

requests = 0


def call(fn, **kw):
    global requests
    requests += 1
    out = fn(**kw)
    retries = out["ResponseMetadata"].get("RetryAttempts", 0)
    if retries != 0:
        sys.exit("%s(%s) took %d retries" % (fn.__name__, kw.get("Key"), retries))
    return out


bucket = "expect-" + os.environ.get("WHARF_SUFFIX", "x")
call(c.create_bucket, Bucket=bucket)
bodies = [b"", b"x", b"", b"hello" * 100, b"", b"", b"y" * (70 << 10), b""]
want = {}
for i in range(60):
    body = bodies[i % len(bodies)]
    key = "k%02d" % i if body else "folder%02d/" % i
    call(c.put_object, Bucket=bucket, Key=key, Body=body)
    want[key] = body
    if i % 10 == 5:
        # An error answered before the body is read, then more PUTs on the client.
        for b in (b"", b"late body"):
            requests += 1
            try:
                c.put_object(Bucket="no-such-bucket-here", Key="k", Body=b)
                sys.exit("PUT to a missing bucket succeeded")
            except ClientError as e:
                if e.response["Error"]["Code"] != "NoSuchBucket":
                    raise

# Multipart parts, one of them empty (the last part may be any size).
up = call(c.create_multipart_upload, Bucket=bucket, Key="mp")
parts = []
for n, body in enumerate([b"a" * (5 << 20), b""], start=1):
    p = call(c.upload_part, Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=n, Body=body)
    parts.append({"ETag": p["ETag"], "PartNumber": n})
call(c.complete_multipart_upload, Bucket=bucket, Key="mp", UploadId=up["UploadId"], MultipartUpload={"Parts": parts})
want["mp"] = b"a" * (5 << 20)

for key, body in want.items():
    got = call(c.get_object, Bucket=bucket, Key=key)["Body"].read()
    if got != body:
        sys.exit("%s: got %d bytes, want %d" % (key, len(got), len(body)))
print("ok", requests)
