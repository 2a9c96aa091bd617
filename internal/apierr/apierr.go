// Package apierr defines the typed errors services return and codecs render.
//
// A service returns an *Error carrying AWS's meaning (code, status, fault); the
// protocol codec renders it in the exact shape its protocol uses. Any other error
// returned by a service is an internal failure and is rendered as InternalFailure
// (status 500) without leaking its text.
package apierr

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an AWS API error.
type Error struct {
	// Code is the error's name: the model's exception shape name for errors a
	// service's model declares (QueueDoesNotExist, NoSuchBucket), or one of the
	// common codes below. For services with awsQueryCompatible or the query
	// protocol, codecs translate a shape name into its query error code
	// (AWS.SimpleQueueService.NonExistentQueue) using the service model.
	Code string
	// Message is the human-readable text. Empty means none is rendered.
	Message string
	// Status is the HTTP status. Zero means: the model's status for Code, else 400.
	Status int
	// Receiver marks a server-side fault ("Receiver"/"Server"); false is "Sender".
	Receiver bool
	// Fields are extra members of the exception shape, keyed by member name
	// (S3's BucketName, DynamoDB's CancellationReasons, ...).
	Fields map[string]any
	// Header are extra response headers (S3's x-amz-delete-marker on errors, ...).
	Header http.Header
}

func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// New returns a client-fault error with a formatted message.
func New(code string, status int, format string, args ...any) *Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &Error{Code: code, Status: status, Message: msg}
}

// WithFields sets e's extra members of the exception shape and returns e.
func (e *Error) WithFields(fields map[string]any) *Error {
	e.Fields = fields
	return e
}

// As returns err as an *Error, or nil when it is not one.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// Common errors shared by all AWS services ("Common Errors" in each API reference).

// Validation is the 400 ValidationException (JSON services) / ValidationError (query).
func Validation(format string, args ...any) *Error {
	return New("ValidationException", 400, format, args...)
}

// Serialization reports a request body the codec could not read.
func Serialization(format string, args ...any) *Error {
	return New("SerializationException", 400, format, args...)
}

// UnknownOperation reports an operation the service does not have.
func UnknownOperation(op string) *Error {
	return New("UnknownOperationException", 400, "The operation %s is not supported by this service.", op)
}

// NotImplemented reports an operation the model has but wharf does not implement yet.
func NotImplemented(service, op string) *Error {
	return &Error{Code: "NotImplemented", Status: 501, Message: fmt.Sprintf("%s %s is not implemented by wharf yet.", service, op)}
}

// Internal is the 500 InternalFailure rendered for unexpected errors.
func Internal() *Error {
	return &Error{Code: "InternalFailure", Status: 500, Receiver: true, Message: "The request processing has failed because of an unknown error, exception or failure."}
}

// AccessDenied is the 403 AccessDeniedException.
func AccessDenied(format string, args ...any) *Error {
	return New("AccessDeniedException", 403, format, args...)
}
