package restxml

import (
	"testing"

	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
)

// TestFitsAgreesWithMatch: routing compares templates with fits, which
// neither decodes nor keeps labels; it must accept exactly the paths match
// accepts, for every S3 template, escapes good and bad included.
func TestFitsAgreesWithMatch(t *testing.T) {
	paths := []string{
		"", "/", "//", "/bkt", "/bkt/", "/bkt//", "/bkt/k", "/bkt/k/", "/bkt/a/b/c.txt", "/bkt//k",
		"/b%20kt", "/bkt/%E2%82%AC", "/bkt/%zz", "/bkt/%4", "/bkt/a%", "/b%g1/k", "/bkt/a%2Fb", "/%", "/bkt/k%41%",
		"/WriteGetObjectResponse", "/bkt/k?x", "/bkt/%%", "/bkt/ok%20/%2",
	}
	tbl := routes(s3api.Service)
	for _, p := range paths {
		for i := range tbl.all {
			rt := &tbl.all[i]
			_, want := rt.match(p)
			if got := rt.fits(p); got != want {
				t.Errorf("%s %s: fits(%q) = %v, match says %v", rt.op.Name, rt.op.RequestURI, p, got, want)
			}
		}
	}
}

// TestEveryOperationHasItsRoute: Decode finds each operation's compiled route
// in its service's table rather than compiling it per request.
func TestEveryOperationHasItsRoute(t *testing.T) {
	for name, op := range s3api.Service.Operations() {
		rt := routeOf(s3api.Service, op)
		if rt.op != op || rt != routes(s3api.Service).byOp[op] {
			t.Errorf("%s: route of another operation or compiled anew", name)
		}
	}
}
