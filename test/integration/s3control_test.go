package integration

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	ctltypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
)

// accountHostClient is what a machine whose DNS answers *.HOST with HOST's
// address gives an SDK: S3 Control's endpoint rules put the account id in
// front of a custom endpoint's host ({AccountId}.127.0.0.1:PORT), which
// nothing resolves on a bare machine, so the dialer does what that DNS would.
func accountHostClient(t *testing.T, endpoint string) *http.Client {
	t.Helper()
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	var d net.Dialer
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		label, rest, _ := strings.Cut(host, ".")
		if rest != u.Hostname() || port != u.Port() || !twelveDigitsRE(label) {
			t.Errorf("S3 Control dialled %s, want <account id>.%s", addr, u.Host)
		}
		return d.DialContext(ctx, network, u.Host)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func twelveDigitsRE(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// fixedEndpoint is an EndpointResolverV2 that sends every request to the
// configured endpoint as it is, the SDK's way to keep its host unprefixed
// ("Configure client endpoints": EndpointResolverV2).
type fixedEndpoint struct{ u url.URL }

func (f fixedEndpoint) ResolveEndpoint(context.Context, s3control.EndpointParameters) (smithyendpoints.Endpoint, error) {
	return smithyendpoints.Endpoint{URI: f.u}, nil
}

// TestS3ControlAccountPublicAccessBlock: the account-level setting is put,
// read and deleted through S3 Control, both with the account id in the host
// (the SDK's endpoint rules) and on the bare endpoint (a custom
// EndpointResolverV2), the account named by x-amz-account-id either way; an
// absent setting is NoSuchPublicAccessBlockConfiguration, another account's
// id is refused.
func TestS3ControlAccountPublicAccessBlock(t *testing.T) {
	t.Parallel()
	ctx := callTimeout(t)
	endpoint := start(t)
	cfg := awsConfig(endpoint, "test", "test", "")
	u, _ := url.Parse(endpoint)
	clients := map[string]*s3control.Client{
		"account host":  s3control.NewFromConfig(cfg, func(o *s3control.Options) { o.HTTPClient = accountHostClient(t, endpoint) }),
		"bare endpoint": s3control.NewFromConfig(cfg, func(o *s3control.Options) { o.EndpointResolverV2 = fixedEndpoint{u: *u} }),
	}
	for name, c := range clients {
		t.Run(name, func(t *testing.T) {
			acct := aws.String("000000000000")
			_, err := c.GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: acct})
			var none *ctltypes.NoSuchPublicAccessBlockConfiguration
			if !errors.As(err, &none) {
				t.Fatalf("GetPublicAccessBlock before any: %v, want NoSuchPublicAccessBlockConfiguration", err)
			}
			wantDenied(t, err, "NoSuchPublicAccessBlockConfiguration", 404, "The public access block configuration was not found")
			if _, err := c.PutPublicAccessBlock(ctx, &s3control.PutPublicAccessBlockInput{AccountId: acct,
				PublicAccessBlockConfiguration: &ctltypes.PublicAccessBlockConfiguration{BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}}); err != nil {
				t.Fatal(err)
			}
			got, err := c.GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: acct})
			if err != nil {
				t.Fatal(err)
			}
			p := got.PublicAccessBlockConfiguration
			if aws.ToBool(p.BlockPublicAcls) || aws.ToBool(p.IgnorePublicAcls) || !aws.ToBool(p.BlockPublicPolicy) || !aws.ToBool(p.RestrictPublicBuckets) {
				t.Fatalf("GetPublicAccessBlock = %+v", p)
			}
			if _, err := c.DeletePublicAccessBlock(ctx, &s3control.DeletePublicAccessBlockInput{AccountId: acct}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: acct}); !errors.As(err, &none) {
				t.Fatalf("GetPublicAccessBlock after delete: %v", err)
			}
			_, err = c.GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: aws.String("111122223333")})
			wantDenied(t, err, "AccessDenied", 403, "Access Denied")
		})
	}
}

// TestAccountPublicAccessBlockWinsOverTheBucket, under --iam enforce: with
// the bucket's own Block Public Access deleted, the account's setting still
// blocks a public bucket policy (BlockPublicPolicy) and another account's
// access through one (RestrictPublicBuckets); deleting the account's setting
// lets both through, as S3 applies the more restrictive of the two.
func TestAccountPublicAccessBlockWinsOverTheBucket(t *testing.T) {
	w := newIAMWorld(t, "enforce")
	ctx := callTimeout(t)
	u, _ := url.Parse(w.endpoint)
	ctl := s3control.NewFromConfig(w.root, func(o *s3control.Options) { o.EndpointResolverV2 = fixedEndpoint{u: *u} })
	rootS3, otherS3 := s3Client(w.root), s3Client(w.other())
	acct := aws.String("000000000000")
	if _, err := rootS3.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: aws.String("data")}); err != nil {
		t.Fatal(err)
	}
	if _, err := rootS3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("report"), Body: strings.NewReader("r")}); err != nil {
		t.Fatal(err)
	}
	const public = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}]}`
	if _, err := ctl.PutPublicAccessBlock(ctx, &s3control.PutPublicAccessBlockInput{AccountId: acct,
		PublicAccessBlockConfiguration: &ctltypes.PublicAccessBlockConfiguration{BlockPublicPolicy: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	_, err := rootS3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("data"), Policy: aws.String(public)})
	wantDenied(t, err, "AccessDenied", 403, `User: arn:aws:iam::000000000000:root is not authorized to perform: s3:PutBucketPolicy on resource: "arn:aws:s3:::data" because public policies are blocked by the BlockPublicPolicy block public access setting.`)

	// RestrictPublicBuckets at the account keeps other accounts out of a
	// public policy the bucket already has.
	if _, err := ctl.PutPublicAccessBlock(ctx, &s3control.PutPublicAccessBlockInput{AccountId: acct,
		PublicAccessBlockConfiguration: &ctltypes.PublicAccessBlockConfiguration{}}); err != nil {
		t.Fatal(err)
	}
	if _, err := rootS3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("data"), Policy: aws.String(public)}); err != nil {
		t.Fatalf("a public policy with every account flag off: %v", err)
	}
	get := func() error {
		_, err := otherS3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("report")})
		return err
	}
	if err := get(); err != nil {
		t.Fatalf("another account through the public policy: %v", err)
	}
	if _, err := ctl.PutPublicAccessBlock(ctx, &s3control.PutPublicAccessBlockInput{AccountId: acct,
		PublicAccessBlockConfiguration: &ctltypes.PublicAccessBlockConfiguration{RestrictPublicBuckets: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	if err := get(); err == nil {
		t.Fatal("another account read through a public policy while the account restricts public buckets")
	} else {
		wantDenied(t, err, "AccessDenied", 403, "User: arn:aws:iam::222222222222:root is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::data/report because no resource-based policy allows the s3:GetObject action")
	}
	if _, err := ctl.DeletePublicAccessBlock(ctx, &s3control.DeletePublicAccessBlockInput{AccountId: acct}); err != nil {
		t.Fatal(err)
	}
	if err := get(); err != nil {
		t.Fatalf("another account once the account's setting is deleted: %v", err)
	}

	// S3 Control's own actions are authorized.
	_, err = s3control.NewFromConfig(w.bob, func(o *s3control.Options) { o.EndpointResolverV2 = fixedEndpoint{u: *u} }).
		GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: acct})
	wantDenied(t, err, "AccessDenied", 403, "User: "+bobARN+" is not authorized to perform: s3:GetAccountPublicAccessBlock on resource: * because no identity-based policy allows the s3:GetAccountPublicAccessBlock action")
}
