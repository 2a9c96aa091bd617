package awsapi

import "context"

// Source is the resource an AWS service acts for when it calls another
// service as its service principal: the topic delivering to a queue, the
// bucket sending a notification. Resource policies see it as aws:SourceArn
// and aws:SourceAccount.
type Source struct {
	ARN     string
	Account string
}

type sourceKey struct{}

// WithSource returns ctx carrying s.
func WithSource(ctx context.Context, s Source) context.Context {
	return context.WithValue(ctx, sourceKey{}, s)
}

// SourceFrom returns the Source ctx carries, if any.
func SourceFrom(ctx context.Context) (Source, bool) {
	s, ok := ctx.Value(sourceKey{}).(Source)
	return s, ok
}
