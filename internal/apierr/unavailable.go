package apierr

// unavailable is each service's answer to a request wharf cannot serve for
// now but will once the condition passes (its data directory's disk is
// full): an error every AWS SDK and the CLI retry with backoff, in the form
// the service documents for a temporary server-side failure. Keyed by the
// model's service id; services not listed answer the common
// ServiceUnavailable, which every service's "Common Errors" page lists
// (503, "The request has failed due to a temporary failure of the server").
var unavailable = map[string]Error{
	// S3's signal to back off ("Error responses" in the S3 API reference:
	// SlowDown, 503); SDKs treat it as throttling and retry.
	"s3": {Code: "SlowDown", Status: 503, Message: "Please reduce your request rate."},
	// The 500s each model declares as its service's own fault.
	"dynamodb":  {Code: "InternalServerError", Status: 500, Message: "Internal server error"},
	"events":    {Code: "InternalException", Status: 500, Message: "An internal error occurred."},
	"scheduler": {Code: "InternalServerException", Status: 500, Message: "Unexpected error encountered while processing the request."},
	"ecs":       {Code: "ServerException", Status: 500, Message: "Service Unavailable. Please try again later."},
	"logs":      {Code: "ServiceUnavailableException", Status: 500, Message: "The service cannot complete the request."},
	"iam":       {Code: "ServiceFailure", Status: 500, Message: "The request processing has failed because of an unknown error, exception or failure."},
	// SNS, SQS, CloudWatch, Application Auto Scaling (whose own
	// InternalServiceException is a 400, which no SDK retries) and STS use
	// the common error.
}

// Unavailable returns service's retryable error for a request it cannot
// serve for now; reason, when not empty, is added to the message so that
// a user reading it learns what to fix.
func Unavailable(service, reason string) *Error {
	e, ok := unavailable[service]
	if !ok {
		e = Error{Code: "ServiceUnavailable", Status: 503, Message: "The request has failed due to a temporary failure of the server."}
	}
	e.Receiver = true
	if reason != "" {
		e.Message += " (" + reason + ")"
	}
	return &e
}
