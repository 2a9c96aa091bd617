// Package awsapi describes AWS services as the codecs and the server need them: the
// service's protocols and operations, and the Go types generated from botocore's
// models (see gen/ and the per-service packages beside this file).
//
// # Generated types
//
// Each structure shape becomes a Go struct. Scalars are pointers so that "absent" and
// "zero" differ: string/enum → *string, integer → *int32, long → *int64,
// float → *float32, double → *float64, boolean → *bool, timestamp → *time.Time,
// blob → []byte (a streaming blob → io.Reader), list → []T, map → map[string]T,
// structure → *T, document → any. A struct member carries the model's facts in
// its tag; Fields parses them. Tag keys:
//
//	aws:"Name"                 member name in the model (always present)
//	location:"header"          header | headers | querystring | uri | statusCode; absent = body
//	locationName:"x-amz-acl"   wire name (header, query key, URI label, XML element)
//	jsonName:"x"               rest-json body key when it differs from the member name
//	queryName:"X"              not used by our services (EC2 only), kept for completeness
//	timestampFormat:"iso8601"  iso8601 | rfc822 | unixTimestamp; absent = protocol default
//	flattened:"true"           XML list/map without a wrapper element
//	memberName:"member"        XML element name of a list's members (default "member")
//	keyName:"key"              XML element name of a map's keys (default "key")
//	valueName:"value"          XML element name of a map's values (default "value")
//	xmlAttribute:"true"        member is an XML attribute
//	xmlNamespace:"uri"         xmlns on this member's element
//	xmlPrefix:"xsi"            prefix used with xmlNamespace
//	jsonvalue:"true"           string holding JSON (base64 in headers)
//	streaming:"true"           streaming blob payload
//	idempotencyToken:"true"    filled with a UUID by SDKs when absent
//	required:"true"            required by the model
//	hostLabel:"true"           bound to the host name
//
// A struct may carry a blank field describing the shape itself:
//
//	_ struct{} `payload:"Body" locationName:"CreateBucketConfiguration" xmlNamespace:"http://..."`
//
// payload names the member bound to the HTTP body (rest protocols); locationName and
// xmlNamespace are the shape's XML element name and namespace.
package awsapi

import (
	"context"
	"reflect"
	"sync"
	"time"
)

// Protocol names, as botocore's metadata spells them.
const (
	ProtocolJSON     = "json"
	ProtocolQuery    = "query"
	ProtocolRestXML  = "rest-xml"
	ProtocolRestJSON = "rest-json"
	ProtocolCBOR     = "smithy-rpc-v2-cbor"
)

// Service describes one AWS service, from its model's metadata.
type Service struct {
	ID              string   // botocore directory name: "sqs", "application-autoscaling"
	Package         string   // Go package name: "sqs", "applicationautoscaling"
	APIVersion      string   // "2012-11-05"
	Protocols       []string // every protocol the service speaks; the first is the model's default
	JSONVersion     string   // "1.0" or "1.1" for json and cbor
	TargetPrefix    string   // X-Amz-Target prefix: "AmazonSQS"
	SigningName     string   // service name in the SigV4 credential scope: "sqs", "monitoring"
	EndpointPrefix  string   // host prefix: "sqs", "monitoring"
	XMLNamespace    string   // query/rest-xml response namespace
	ServiceID       string   // "SQS", "CloudWatch"
	QueryCompatible bool     // awsQueryCompatible: JSON errors carry the query error code
	Quirks          Quirks   // where the service departs from its protocol
	// OperationList and ErrorList are the service's operations and exception
	// shapes. Generated packages keep them in static arrays, which cost no
	// init code and no memory until read; Operations and Errors index them
	// by name on first use, so an idle wharf never builds the indexes of the
	// services no request reached.
	OperationList []Operation
	ErrorList     []ErrorShape

	ops  lazyIndex[Operation]
	errs lazyIndex[ErrorShape]
}

// Operations returns the service's operations by name. The map is built on
// the first call and shared: callers must not modify it.
func (s *Service) Operations() map[string]*Operation {
	return s.ops.get(s.OperationList, func(o *Operation) string { return o.Name })
}

// Errors returns the service's exception shapes by shape name, built and
// shared as Operations is.
func (s *Service) Errors() map[string]*ErrorShape {
	return s.errs.get(s.ErrorList, func(e *ErrorShape) string { return e.Name })
}

// lazyIndex is a map from name to element of a list, built once on first use;
// after that a lookup costs one atomic load.
type lazyIndex[T any] struct {
	once sync.Once
	m    map[string]*T
}

func (x *lazyIndex[T]) get(list []T, name func(*T) string) map[string]*T {
	x.once.Do(func() {
		m := make(map[string]*T, len(list))
		for i := range list {
			m[name(&list[i])] = &list[i]
		}
		x.m = m
	})
	return x.m
}

// Quirks are the ways a service departs from what its protocol and the other
// services do, found by running real clients against AWS. They are data the
// generator sets from overlays/quirks.json, so codecs and the front door read
// a named behaviour instead of testing which service a request is for.
type Quirks struct {
	// MaxRequestBody is the largest request body the service takes, in bytes;
	// 0 is the protocol's default.
	MaxRequestBody int `json:"maxRequestBody,omitempty"`
	// RequestContentEncodings: the service undoes a request's gzip or deflate
	// Content-Encoding itself, and answers one it cannot decode with its own
	// error (DynamoDB: a 500 InternalServerError).
	RequestContentEncodings bool `json:"requestContentEncodings,omitempty"`
	// CompressResponses: responses are gzip-compressed when the request
	// accepts it and they are large enough.
	CompressResponses bool `json:"compressResponses,omitempty"`
	// CRC32Header: every response carries x-amz-crc32 of its body, which the
	// service's SDKs check.
	CRC32Header bool `json:"crc32Header,omitempty"`
	// EmptyBodyWithoutOutput: an operation with no output answers an empty
	// body rather than "{}".
	EmptyBodyWithoutOutput bool `json:"emptyBodyWithoutOutput,omitempty"`
	// OwnUTF8Check: the service checks its parameters' UTF-8 itself, with its
	// own error, instead of the query codec refusing invalid text.
	OwnUTF8Check bool `json:"ownUTF8Check,omitempty"`
	// PostObject: browser-based uploads (an HTML form POSTed to the bucket)
	// are an operation of the service.
	PostObject bool `json:"postObject,omitempty"`
	// S3AuthErrors: an unknown access key is InvalidAccessKeyId and a request
	// without credentials a 403 AccessDenied, as S3 answers, rather than the
	// common InvalidClientTokenId and MissingAuthenticationToken.
	S3AuthErrors bool `json:"s3AuthErrors,omitempty"`
	// VirtualHostedBuckets: a request to <bucket>.<host> is for this service,
	// the bucket named by the host, and so is a request no other service
	// claims (an unsigned path-style GET of an object).
	VirtualHostedBuckets bool `json:"virtualHostedBuckets,omitempty"`
	// PathPrefix: a request signed for another service's signing name (S3
	// Control signs as "s3") is this service's when its path starts with
	// PathPrefix ("/v20180820/").
	PathPrefix string `json:"pathPrefix,omitempty"`
	// WrappedXMLErrors: rest-xml errors are wrapped as
	// <ErrorResponse><Error>…</Error><RequestId/></ErrorResponse>, as S3
	// Control answers, not S3's bare <Error>.
	WrappedXMLErrors bool `json:"wrappedXMLErrors,omitempty"`
}

// Speaks reports whether the service supports protocol p.
func (s *Service) Speaks(p string) bool {
	for _, q := range s.Protocols {
		if q == p {
			return true
		}
	}
	return false
}

// Operation describes one operation of a service.
type Operation struct {
	Name          string
	Method        string // HTTP method for rest protocols
	RequestURI    string // "/{Bucket}/{Key+}?uploads"
	SuccessCode   int    // http.responseCode; 0 means 200
	ResultWrapper string // query protocol: element wrapping the output
	NewInput      func() any
	NewOutput     func() any // nil when the operation has no output shape
	Errors        []string   // exception shape names
}

// ErrorShape describes an exception shape.
type ErrorShape struct {
	Name      string // shape name: "QueueDoesNotExist"
	Code      string // query error code (error.code): "AWS.SimpleQueueService.NonExistentQueue"; else Name
	Status    int    // error.httpStatusCode; 0 means 400
	Receiver  bool   // error.senderFault == false / fault "server"
	NewStruct func() any
}

// Handler runs one operation: in is the operation's *Input, the result its *Output.
type Handler func(ctx context.Context, in any) (any, error)

// Caller is who sent a request and where it acts; the server puts it in the context.
type Caller struct {
	Account   string // 12-digit account id derived from the access key
	Region    string
	AccessKey string
	ARN       string // principal ARN (root, user or assumed role)
	RequestID string
	Service   string
	Operation string
	Host      string // the Host header the client used, for URLs in responses (SQS queue URLs)
	SourceIP  string // the client's IP address (aws:SourceIp)
	// Temporary marks a request signed with temporary (STS) credentials,
	// issued at TokenIssued (zero when unknown): only such requests carry
	// aws:TokenIssueTime and aws:MultiFactorAuthPresent, as on AWS.
	Temporary   bool
	TokenIssued time.Time
	// Anonymous marks an unsigned S3 request (under --auth any, only with
	// --iam enforce): it has no account (Account and ARN are empty) and gets
	// in only where a bucket policy or ACL grants everyone.
	Anonymous bool
	// ResourcePolicyGrant is set by the authorizer when the resource's
	// resource-based policy let this caller reach another account's
	// resource: services that keep other accounts out let it through.
	ResourcePolicyGrant bool
}

// Key is what wharf knows of an access key.
type Key struct {
	Secret       string
	Account      string
	ARN          string // the principal: arn:aws:iam::<account>:root, a user, or an assumed role
	SessionToken string // set for temporary credentials; requests must present it
	// Issued is when temporary credentials were issued (zero for an access
	// key, and for sessions whose issue time was not kept).
	Issued time.Time
	// Refused is set, with LookupKey's ok false, for a key that was issued
	// but no longer authenticates: KeyExpired for temporary credentials past
	// their expiry, KeyInvalid for an inactive or deleted access key and for
	// temporary credentials whose user or role was deleted. The server
	// refuses such a key in every --auth mode, as AWS does, instead of
	// treating it as an unknown key.
	Refused string
}

// Reasons a known key is refused (Key.Refused).
const (
	KeyExpired = "expired"
	KeyInvalid = "invalid"
)

// Keys resolves access keys. IAM (users' keys) and STS (temporary credentials)
// implement it; the server consults it for every signed request.
type Keys interface {
	LookupKey(ctx context.Context, accessKey string) (Key, bool)
}

type callerKey struct{}

// WithCaller returns ctx carrying c.
func WithCaller(ctx context.Context, c *Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller in ctx, or a zero caller.
func CallerFrom(ctx context.Context) *Caller {
	if c, ok := ctx.Value(callerKey{}).(*Caller); ok {
		return c
	}
	return &Caller{}
}

// Field is one struct member with its parsed tag.
type Field struct {
	Index            int
	GoName           string
	Type             reflect.Type
	Name             string // aws tag: model member name
	Location         string
	LocationName     string
	JSONName         string
	TimestampFormat  string
	Flattened        bool
	MemberName       string
	KeyName          string
	ValueName        string
	XMLAttribute     bool
	XMLNamespace     string
	XMLPrefix        string
	JSONValue        bool
	Streaming        bool
	IdempotencyToken bool
	Required         bool
	HostLabel        bool
}

// WireName is the name used on the wire for XML, query and header/query/uri
// bindings: locationName when set, else the member name.
func (f *Field) WireName() string {
	if f.LocationName != "" {
		return f.LocationName
	}
	return f.Name
}

// Shape is a struct type's parsed description.
type Shape struct {
	Fields       []Field
	Payload      string // member bound to the body, if any
	XMLName      string // locationName of the shape
	XMLNamespace string
	XMLPrefix    string
	byName       map[string]*Field
}

// Field returns the field with model member name n, or nil.
func (s *Shape) Field(n string) *Field { return s.byName[n] }

var shapes sync.Map // reflect.Type → *Shape

// ShapeOf parses (once) the tags of struct type t (or pointer to struct).
func ShapeOf(t reflect.Type) *Shape {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s, ok := shapes.Load(t); ok {
		return s.(*Shape)
	}
	s := &Shape{byName: map[string]*Field{}}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag
		if sf.Name == "_" {
			s.Payload = tag.Get("payload")
			s.XMLName = tag.Get("locationName")
			s.XMLNamespace = tag.Get("xmlNamespace")
			s.XMLPrefix = tag.Get("xmlPrefix")
			continue
		}
		name := tag.Get("aws")
		if name == "" || !sf.IsExported() {
			continue
		}
		s.Fields = append(s.Fields, Field{
			Index:            i,
			GoName:           sf.Name,
			Type:             sf.Type,
			Name:             name,
			Location:         tag.Get("location"),
			LocationName:     tag.Get("locationName"),
			JSONName:         tag.Get("jsonName"),
			TimestampFormat:  tag.Get("timestampFormat"),
			Flattened:        tag.Get("flattened") == "true",
			MemberName:       orDefault(tag.Get("memberName"), "member"),
			KeyName:          orDefault(tag.Get("keyName"), "key"),
			ValueName:        orDefault(tag.Get("valueName"), "value"),
			XMLAttribute:     tag.Get("xmlAttribute") == "true",
			XMLNamespace:     tag.Get("xmlNamespace"),
			XMLPrefix:        tag.Get("xmlPrefix"),
			JSONValue:        tag.Get("jsonvalue") == "true",
			Streaming:        tag.Get("streaming") == "true",
			IdempotencyToken: tag.Get("idempotencyToken") == "true",
			Required:         tag.Get("required") == "true",
			HostLabel:        tag.Get("hostLabel") == "true",
		})
	}
	for i := range s.Fields {
		s.byName[s.Fields[i].Name] = &s.Fields[i]
	}
	actual, _ := shapes.LoadOrStore(t, s)
	return actual.(*Shape)
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// Pointer helpers for service code.

// String returns a pointer to v.
func String(v string) *string { return &v }

// Int32 returns a pointer to v.
func Int32(v int32) *int32 { return &v }

// Int64 returns a pointer to v.
func Int64(v int64) *int64 { return &v }

// Bool returns a pointer to v.
func Bool(v bool) *bool { return &v }

// ToString returns *p, or "" when p is nil.
func ToString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// ToInt32 returns *p, or 0 when p is nil.
func ToInt32(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

// ToInt64 returns *p, or 0 when p is nil.
func ToInt64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// ToBool returns *p, or false when p is nil.
func ToBool(p *bool) bool {
	return p != nil && *p
}
