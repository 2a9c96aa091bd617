package app

import (
	"context"
	"fmt"

	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/service/dynamodb"
)

// bindDynamodbStored is bindDynamodbService with GetItem, Query and Scan
// answering their items in the stored form, which the JSON codec writes
// without decoding them into maps (the answer's bytes are the same).
func bindDynamodbStored(impl *dynamodb.Service) map[string]awsapi.Handler {
	h := bindDynamodbService(impl)
	h["GetItem"] = handle("dynamodb", impl.GetItemStored)
	h["Query"] = handle("dynamodb", impl.QueryStored)
	h["Scan"] = handle("dynamodb", impl.ScanStored)
	return h
}

// handle adapts a typed operation method to an awsapi.Handler, as the
// generated packages' Bind does; pkg names the generated package.
func handle[I, O any](pkg string, f func(context.Context, *I) (*O, error)) awsapi.Handler {
	return func(ctx context.Context, in any) (any, error) {
		i, ok := in.(*I)
		if !ok {
			return nil, fmt.Errorf("%s: input is %T, want %T", pkg, in, i)
		}
		out, err := f(ctx, i)
		if out == nil {
			return nil, err // a nil *O must not become a non-nil any
		}
		return out, err
	}
}

// handleNoOutput adapts a method of an operation without output: the codecs
// are given a nil output, as the operation's NewOutput is nil.
func handleNoOutput[I, O any](pkg string, f func(context.Context, *I) (*O, error)) awsapi.Handler {
	h := handle(pkg, f)
	return func(ctx context.Context, in any) (any, error) {
		_, err := h(ctx, in)
		return nil, err
	}
}
