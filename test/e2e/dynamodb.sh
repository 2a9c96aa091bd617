#!/usr/bin/env bash
# DynamoDB end to end with clients nobody here wrote: boto3's resource API
# (Table.put_item, query with Key conditions, batch_writer, Decimal numbers) and
# the aws CLI v1 on PATH and v2 at /usr/bin/aws. aws-sdk-go-v2 covers every
# operation in internal/service/dynamodb/sdk_test.go.
source "$(dirname "$0")/lib.sh"
wharf_start --ephemeral

echo "boto3 resource API"
WHARF_ENDPOINT=$endpoint python3 - <<'PY' || fail boto3
import os
from decimal import Decimal
import boto3
from boto3.dynamodb.conditions import Key, Attr
from botocore.exceptions import ClientError

ddb = boto3.resource("dynamodb", endpoint_url=os.environ["WHARF_ENDPOINT"])
table = ddb.create_table(
    TableName="e2e-boto3",
    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
    BillingMode="PAY_PER_REQUEST",
)
table.wait_until_exists()
table.put_item(Item={"pk": "user#1", "sk": "profile", "name": "Ada", "score": Decimal("0.1")})
with table.batch_writer() as bw:
    for i in range(30):
        bw.put_item(Item={"pk": "user#1", "sk": f"order#{i:03d}", "total": Decimal(i) / 4})
got = table.get_item(Key={"pk": "user#1", "sk": "profile"})["Item"]
assert got["name"] == "Ada" and got["score"] == Decimal("0.1"), got
r = table.query(KeyConditionExpression=Key("pk").eq("user#1") & Key("sk").begins_with("order#"), ScanIndexForward=False, Limit=5)
assert [i["sk"] for i in r["Items"]] == [f"order#{i:03d}" for i in range(29, 24, -1)], r["Items"]
assert "LastEvaluatedKey" in r
r = table.query(KeyConditionExpression=Key("pk").eq("user#1") & Key("sk").between("order#010", "order#012"), FilterExpression=Attr("total").gt(Decimal("2.5")))
assert [i["sk"] for i in r["Items"]] == ["order#011", "order#012"] and r["ScannedCount"] == 3, r
u = table.update_item(Key={"pk": "user#1", "sk": "profile"}, UpdateExpression="SET score = score + :d", ExpressionAttributeValues={":d": Decimal("0.2")}, ReturnValues="UPDATED_NEW")
assert u["Attributes"]["score"] == Decimal("0.3"), u
try:
    table.put_item(Item={"pk": "user#1", "sk": "profile"}, ConditionExpression="attribute_not_exists(pk)")
    raise SystemExit("conditional put succeeded")
except ClientError as e:
    assert e.response["Error"]["Code"] == "ConditionalCheckFailedException", e.response
assert table.scan(Select="COUNT")["Count"] == 31
assert table.item_count == 31, table.item_count
table.delete()
PY

for cli in "$(command -v aws)" /usr/bin/aws; do
  [ -x "$cli" ] || continue
  echo "$("$cli" --version 2>&1)"
  name="e2e-cli-$RANDOM"
  "$cli" --endpoint-url "$endpoint" dynamodb create-table --table-name "$name" \
    --attribute-definitions AttributeName=id,AttributeType=S AttributeName=n,AttributeType=N \
    --key-schema AttributeName=id,KeyType=HASH AttributeName=n,KeyType=RANGE \
    --billing-mode PAY_PER_REQUEST >/dev/null || fail "$cli create-table"
  "$cli" --endpoint-url "$endpoint" dynamodb wait table-exists --table-name "$name" || fail "$cli wait"
  for n in 10 9 -1 2.5; do
    "$cli" --endpoint-url "$endpoint" dynamodb put-item --table-name "$name" \
      --item "{\"id\":{\"S\":\"a\"},\"n\":{\"N\":\"$n\"},\"tags\":{\"SS\":[\"x\",\"y\"]}}" || fail "$cli put-item"
  done
  order=$("$cli" --endpoint-url "$endpoint" dynamodb query --table-name "$name" \
    --key-condition-expression "id = :id" --expression-attribute-values '{":id":{"S":"a"}}' \
    --query 'Items[].n.N' --output text) || fail "$cli query"
  [ "$(echo $order)" = "-1 2.5 9 10" ] || fail "$cli query order: $order"
  "$cli" --endpoint-url "$endpoint" dynamodb update-item --table-name "$name" --key '{"id":{"S":"a"},"n":{"N":"10"}}' \
    --update-expression "ADD hits :one" --expression-attribute-values '{":one":{"N":"1"}}' >/dev/null || fail "$cli update-item"
  hits=$("$cli" --endpoint-url "$endpoint" dynamodb get-item --table-name "$name" --key '{"id":{"S":"a"},"n":{"N":"10"}}' \
    --query 'Item.hits.N' --output text) || fail "$cli get-item"
  [ "$hits" = "1" ] || fail "$cli hits = $hits"
  if "$cli" --endpoint-url "$endpoint" dynamodb update-item --table-name "$name" --key '{"id":{"S":"a"},"n":{"N":"10"}}' \
    --update-expression "SET status = :s" --expression-attribute-values '{":s":{"S":"x"}}' 2>"$tmp/err"; then
    fail "$cli accepted a reserved word"
  fi
  grep -q "reserved keyword: status" "$tmp/err" || fail "$cli reserved word error: $(cat "$tmp/err")"
  count=$("$cli" --endpoint-url "$endpoint" dynamodb scan --table-name "$name" --select COUNT --query Count --output text) || fail "$cli scan"
  [ "$count" = "4" ] || fail "$cli scan count = $count"
  "$cli" --endpoint-url "$endpoint" dynamodb list-tables --query TableNames --output text | grep -q "$name" || fail "$cli list-tables"
  "$cli" --endpoint-url "$endpoint" dynamodb delete-table --table-name "$name" >/dev/null || fail "$cli delete-table"
done
echo "dynamodb e2e: ok"
