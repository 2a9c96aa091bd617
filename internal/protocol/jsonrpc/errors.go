package jsonrpc

import (
	"bytes"
	"reflect"
	"sort"
	"strings"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/protocol"
)

// ErrorInfo is an API error resolved against its service's model, as the JSON
// family of protocols (awsJson, restJson, rpcv2Cbor) renders it.
type ErrorInfo struct {
	// Status is the HTTP status: the error's, else the model's, else 400.
	Status int
	// Name is what SDKs match to an exception class: the exception shape's name,
	// or the common error code.
	Name string
	// Type is the __type body member: Name, qualified with the model's namespace
	// for awsQueryCompatible services, as AWS sends it there.
	Type string
	// QueryError is the x-amzn-query-error header ("<query code>;Sender"), set only
	// for awsQueryCompatible services: SDKs read the query code from it, so errors
	// keep the codes the query protocol gave them.
	QueryError string
	// MessageKey is the body key of the message: the shape's own spelling
	// ("Message" in some models), else "message".
	MessageKey string
	// Shape is the model's exception shape, nil for common errors.
	Shape *awsapi.ErrorShape
}

// coralNamespaces are where AWS's JSON services say the common errors come from.
var coralNamespaces = map[string]string{
	"ValidationException":                 "com.amazon.coral.validate#",
	"SerializationException":              "com.amazon.coral.service#",
	"UnknownOperationException":           "com.amazon.coral.service#",
	"InternalFailure":                     "com.amazon.coral.service#",
	"AccessDeniedException":               "com.amazon.coral.service#",
	"UnrecognizedClientException":         "com.amazon.coral.service#",
	"InvalidSignatureException":           "com.amazon.coral.service#",
	"IncompleteSignature":                 "com.amazon.coral.service#",
	"IncompleteSignatureException":        "com.amazon.coral.service#",
	"MissingAuthenticationTokenException": "com.amazon.coral.service#",
	"ExpiredTokenException":               "com.amazon.coral.service#",
	"ThrottlingException":                 "com.amazon.coral.availability#",
}

// queryCommonTypes are the JSON names of the common query errors an
// awsQueryCompatible service's model has no shape for: SQS's JSON front end
// sends InvalidParameterValue as com.amazonaws.sqs#InvalidParameterValueException
// and MissingParameter as ...#MissingRequiredParameterException, the query
// codes going in x-amzn-query-error (botocore's QueryErrorCode in SQS's
// recorded answers, localstack's AWS-validated snapshots). CloudWatch models
// both as shapes of these names.
var queryCommonTypes = map[string]string{
	"InvalidParameterValue": "InvalidParameterValueException",
	"MissingParameter":      "MissingRequiredParameterException",
}

// versionedNamespaces are the awsQueryCompatible services whose modelled
// errors' __type carries their versioned namespace: CloudWatch answers
// com.amazonaws.cloudwatch.v2010_08_01#ResourceNotFound over JSON and CBOR
// (its recorded answers, localstack's AWS-validated snapshots).
var versionedNamespaces = map[string]string{
	"cloudwatch": "com.amazonaws.cloudwatch.v2010_08_01#",
}

// typeNamespaces are the awsJson services whose __type always carries a
// namespace: DynamoDB sends its modelled exceptions as
// com.amazonaws.dynamodb.v20120810#ResourceNotFoundException and the common
// ones in Coral's (com.amazon.coral.validate#ValidationException); raw
// clients split __type at '#'.
var typeNamespaces = map[string]string{
	"dynamodb": "com.amazonaws.dynamodb.v20120810#",
}

// ResolveError looks e up in svc's model (svc may be nil). e.Code is normally the
// exception shape's name; a query error code (AWS.SimpleQueueService.NonExistentQueue)
// is accepted too and mapped back to its shape.
func ResolveError(svc *awsapi.Service, e *apierr.Error) ErrorInfo {
	res := protocol.Resolve(svc, e)
	info := ErrorInfo{Name: res.Name, Status: res.Status, Shape: res.Shape, MessageKey: "message"}
	if s := res.Shape; s != nil && s.NewStruct != nil {
		for _, f := range awsapi.ShapeOf(reflect.TypeOf(s.NewStruct())).Fields {
			if strings.EqualFold(f.Name, "message") {
				info.MessageKey = f.Name
				break
			}
		}
	}
	info.Type = info.Name
	if ns := typeNamespaces[svcID(svc)]; ns != "" {
		info.Type = ns + info.Name
		if info.Shape == nil && coralNamespaces[info.Name] != "" {
			info.Type = coralNamespaces[info.Name] + info.Name
		}
	}
	if svc != nil && svc.QueryCompatible {
		ns := "com.amazonaws." + strings.ToLower(svc.Package) + "#"
		if v := versionedNamespaces[svc.ID]; v != "" {
			ns = v
		}
		switch {
		case info.Shape != nil:
			info.Type = ns + info.Name
		case coralNamespaces[info.Name] != "":
			info.Type = coralNamespaces[info.Name] + info.Name
		case queryCommonTypes[info.Name] != "":
			info.Name = queryCommonTypes[info.Name]
			info.Type = ns + info.Name
		}
		code := res.Code
		if info.Shape == nil && code == "ValidationException" {
			// The query protocol's name for model validation, which
			// SDKs read from the header (CloudWatch's recorded JSON and
			// CBOR answers: code ValidationError, __type Coral's
			// ValidationException).
			code = "ValidationError"
		}
		info.QueryError = code + ";" + res.Fault()
	}
	return info
}

func svcID(svc *awsapi.Service) string {
	if svc == nil {
		return ""
	}
	return svc.ID
}

// Members returns the error's body members other than __type: the message under
// the model's key, then e.Fields, sorted by name.
func (info ErrorInfo) Members(e *apierr.Error) (keys []string, values map[string]any) {
	values = map[string]any{}
	for k, v := range e.Fields {
		if strings.EqualFold(k, "message") || k == "__type" || v == nil {
			continue
		}
		values[k] = v
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if e.Message != "" {
		keys = append([]string{info.MessageKey}, keys...)
		values[info.MessageKey] = e.Message
	}
	return keys, values
}

// ErrorBody renders e's JSON body, with __type when withType is set (awsJson
// always; restJson relies on the x-amzn-ErrorType header instead).
func ErrorBody(info ErrorInfo, e *apierr.Error, withType bool) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	if withType {
		writeString(&b, "__type")
		b.WriteByte(':')
		writeString(&b, info.Type)
		first = false
	}
	keys, values := info.Members(e)
	for _, k := range keys {
		var vb bytes.Buffer
		if err := encodeValue(&vb, reflectValue(values[k]), "", Options{}); err != nil {
			continue // a field the codec cannot render must not hide the error itself
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		writeString(&b, k)
		b.WriteByte(':')
		b.Write(vb.Bytes())
	}
	b.WriteByte('}')
	return b.Bytes()
}

func reflectValue(v any) reflect.Value { return reflect.ValueOf(v) }
