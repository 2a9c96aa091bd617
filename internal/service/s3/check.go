package s3

import "net/http"

// Check refuses requests for headers that the operation's model does not
// carry but S3 answers anyway (server.Registration.Check).
//
// A read cannot choose how an object is encrypted: S3 refuses
// x-amz-server-side-encryption on GetObject and HeadObject with 400
// InvalidArgument, where a client that meant SSE-C gets its error instead of
// a read that silently ignores what it asked for. botocore's GetObject and
// HeadObject inputs have no such member, so the codec never decodes it.
func (s *Service) Check(op string, r *http.Request) error {
	switch op {
	case "GetObject", "HeadObject":
		if vals := r.Header.Values("x-amz-server-side-encryption"); len(vals) > 0 {
			return invalidArgument("x-amz-server-side-encryption header is not supported for this operation.",
				"x-amz-server-side-encryption", vals[0])
		}
	}
	return nil
}
