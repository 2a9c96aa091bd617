package query

import (
	"reflect"

	"github.com/wharf-dev/wharf/internal/awsapi"
)

// sqsNamespace is the XML namespace of SQS's query responses. SQS's current model is
// JSON and carries none, but query clients expect AWS's.
const sqsNamespace = "http://queue.amazonaws.com/doc/2012-11-05/"

// sqsLegacy holds the wire names of SQS's last query model (2012-11-05, as shipped by
// aws-sdk-go v1.44 and botocore before SQS moved to JSON in 2023) where today's JSON
// model dropped them. Query clients built from that model send and parse exactly
// these names (Attribute.1.Name, ReceiveMessageResult's flattened <Message>), so the
// query codec renames fields with them. Keys are "Operation.Member" when the name
// depends on the operation, else "Member".
var sqsLegacy = map[string]legacyName{
	"AWSAccountIds":               {member: "AWSAccountId"},
	"Actions":                     {member: "ActionName"},
	"AttributeNames":              {member: "AttributeName"},
	"MessageAttributeNames":       {member: "MessageAttributeName"},
	"MessageSystemAttributeNames": {member: "MessageSystemAttributeName"},
	"QueueUrls":                   {member: "QueueUrl"},
	"queueUrls":                   {member: "QueueUrl"},
	"Messages":                    {member: "Message"},
	"Results":                     {member: "ListMessageMoveTasksResultEntry"},
	"TagKeys":                     {member: "TagKey"},
	"Failed":                      {member: "BatchResultErrorEntry"},
	"StringListValues":            {loc: "StringListValue", member: "StringListValue"},
	"BinaryListValues":            {loc: "BinaryListValue", member: "BinaryListValue"},
	"Attributes":                  {loc: "Attribute", key: "Name", value: "Value"},
	"MessageAttributes":           {loc: "MessageAttribute", key: "Name", value: "Value"},
	"MessageSystemAttributes":     {loc: "MessageSystemAttribute", key: "Name", value: "Value"},
	"tags":                        {loc: "Tag", key: "Key", value: "Value"},
	"Tags":                        {loc: "Tag", key: "Key", value: "Value"},

	"SendMessageBatch.Entries":                {member: "SendMessageBatchRequestEntry"},
	"SendMessageBatch.Successful":             {member: "SendMessageBatchResultEntry"},
	"DeleteMessageBatch.Entries":              {member: "DeleteMessageBatchRequestEntry"},
	"DeleteMessageBatch.Successful":           {member: "DeleteMessageBatchResultEntry"},
	"ChangeMessageVisibilityBatch.Entries":    {member: "ChangeMessageVisibilityBatchRequestEntry"},
	"ChangeMessageVisibilityBatch.Successful": {member: "ChangeMessageVisibilityBatchResultEntry"},
}

type legacyName struct{ loc, member, key, value string }

// sqsRename returns the renaming function for operation op of SQS.
func sqsRename(op string) func(f *awsapi.Field) *awsapi.Field {
	return func(f *awsapi.Field) *awsapi.Field {
		l, ok := sqsLegacy[op+"."+f.Name]
		if !ok {
			l, ok = sqsLegacy[f.Name]
		}
		if !ok || !isCollection(f.Type) {
			return f
		}
		g := *f
		if l.loc != "" {
			g.LocationName = l.loc
		}
		if l.member != "" {
			g.MemberName = l.member
		}
		if l.key != "" {
			g.KeyName, g.ValueName = l.key, l.value
		}
		// Every renamed SQS collection was flattened in the query model.
		g.Flattened = true
		return &g
	}
}

func isCollection(t reflect.Type) bool {
	return t.Kind() == reflect.Map || t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8
}
