// Package protocol defines what a codec for one AWS wire protocol does, and picks the
// protocol a request uses. The codecs live in the subpackages: jsonrpc (json 1.0 and
// 1.1), restjson, cbor (smithy-rpc-v2-cbor), query and restxml. Each serves every
// operation of every service speaking its protocol, driven by the generated types'
// tags (see package awsapi).
package protocol

import (
	"net/http"
	"strings"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
)

// Codec reads requests and writes responses in one wire protocol.
type Codec interface {
	// Operation names the operation r calls, or returns an *apierr.Error
	// (UnknownOperationException, InvalidAction, MethodNotAllowed, ...).
	Operation(svc *awsapi.Service, r *http.Request) (*awsapi.Operation, error)
	// Decode fills in (a pointer to the operation's input struct) from r. Malformed
	// input yields an *apierr.Error (SerializationException, MalformedQueryString,
	// InvalidRequest, ...), never a panic. The JSON, rest-json, CBOR and query codecs
	// then reject an input missing a required member with the service's error
	// (CheckRequired); rest-xml (S3) leaves that to its router and the service.
	Decode(svc *awsapi.Service, op *awsapi.Operation, r *http.Request, in any) error
	// Encode writes out (a pointer to the operation's output struct, or nil) as the
	// operation's successful response, with the request id header the protocol uses.
	Encode(w http.ResponseWriter, r *http.Request, svc *awsapi.Service, op *awsapi.Operation, out any, requestID string) error
	// EncodeError writes e in the protocol's error shape and status. svc may be nil
	// when the service is unknown.
	EncodeError(w http.ResponseWriter, r *http.Request, svc *awsapi.Service, e *apierr.Error, requestID string)
}

// Detect returns the protocol r uses to call svc. Newer and older SDKs call the same
// service in different protocols (SQS: query, then JSON; CloudWatch: query, JSON,
// CBOR), so the request, not the model's default, decides.
func Detect(svc *awsapi.Service, r *http.Request) string {
	if svc.Speaks(awsapi.ProtocolCBOR) &&
		(strings.EqualFold(r.Header.Get("Smithy-Protocol"), "rpc-v2-cbor") || strings.HasPrefix(r.URL.Path, "/service/")) {
		return awsapi.ProtocolCBOR
	}
	if svc.Speaks(awsapi.ProtocolJSON) && r.Header.Get("X-Amz-Target") != "" {
		return awsapi.ProtocolJSON
	}
	if svc.Speaks(awsapi.ProtocolQuery) && isQuery(r) {
		return awsapi.ProtocolQuery
	}
	for _, p := range []string{awsapi.ProtocolRestJSON, awsapi.ProtocolRestXML, awsapi.ProtocolJSON, awsapi.ProtocolQuery} {
		if svc.Speaks(p) {
			return p
		}
	}
	return svc.Protocols[0]
}

func isQuery(r *http.Request) bool {
	// A URL without a query has no Action: most requests are not parsed
	// (URL.Query makes a map even of nothing).
	if r.URL.RawQuery != "" && r.URL.Query().Has("Action") {
		return true
	}
	ct := r.Header.Get("Content-Type")
	return r.Method == http.MethodPost && strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded")
}
