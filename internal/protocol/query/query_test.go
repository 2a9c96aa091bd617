package query

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
)

// The types below carry the tags the generator emits for the same shapes, so the
// codec is tested against the contract, not against one generated package.

type tag struct {
	Key   *string `aws:"Key"`
	Value *string `aws:"Value"`
}

type policyDescriptor struct {
	Arn *string `aws:"arn"`
}

type assumeRoleInput struct {
	RoleArn           *string            `aws:"RoleArn" required:"true"`
	RoleSessionName   *string            `aws:"RoleSessionName" required:"true"`
	DurationSeconds   *int32             `aws:"DurationSeconds"`
	PolicyArns        []policyDescriptor `aws:"PolicyArns"`
	Tags              []tag              `aws:"Tags"`
	TransitiveTagKeys []string           `aws:"TransitiveTagKeys"`
}

type stsCredentials struct {
	AccessKeyId     *string    `aws:"AccessKeyId"`
	SecretAccessKey *string    `aws:"SecretAccessKey"`
	SessionToken    *string    `aws:"SessionToken"`
	Expiration      *time.Time `aws:"Expiration"`
}

type assumedRoleUser struct {
	AssumedRoleId *string `aws:"AssumedRoleId"`
	Arn           *string `aws:"Arn"`
}

type assumeRoleOutput struct {
	Credentials      *stsCredentials  `aws:"Credentials"`
	AssumedRoleUser  *assumedRoleUser `aws:"AssumedRoleUser"`
	PackedPolicySize *int32           `aws:"PackedPolicySize"`
}

type getCallerIdentityInput struct{}

type getCallerIdentityOutput struct {
	UserId  *string `aws:"UserId"`
	Account *string `aws:"Account"`
	Arn     *string `aws:"Arn"`
}

func stsService() *awsapi.Service {
	return &awsapi.Service{
		ID: "sts", APIVersion: "2011-06-15", Protocols: []string{"query"},
		XMLNamespace: "https://sts.amazonaws.com/doc/2011-06-15/",
		OperationList: []awsapi.Operation{
			{Name: "AssumeRole", ResultWrapper: "AssumeRoleResult",
				NewInput: func() any { return new(assumeRoleInput) }, NewOutput: func() any { return new(assumeRoleOutput) }},
			{Name: "GetCallerIdentity", ResultWrapper: "GetCallerIdentityResult",
				NewInput: func() any { return new(getCallerIdentityInput) }, NewOutput: func() any { return new(getCallerIdentityOutput) }},
		},
		ErrorList: []awsapi.ErrorShape{
			{Name: "MalformedPolicyDocumentException", Code: "MalformedPolicyDocument", Status: 400},
		},
	}
}

type iamUser struct {
	Path       *string    `aws:"Path"`
	UserName   *string    `aws:"UserName"`
	UserId     *string    `aws:"UserId"`
	Arn        *string    `aws:"Arn"`
	CreateDate *time.Time `aws:"CreateDate"`
	Tags       []tag      `aws:"Tags"`
}

type listUsersInput struct {
	PathPrefix *string `aws:"PathPrefix"`
	Marker     *string `aws:"Marker"`
	MaxItems   *int32  `aws:"MaxItems"`
}

type listUsersOutput struct {
	Users       []iamUser `aws:"Users"`
	IsTruncated *bool     `aws:"IsTruncated"`
	Marker      *string   `aws:"Marker"`
}

type deleteUserInput struct {
	UserName *string `aws:"UserName"`
}

type tagUserInput struct {
	UserName *string `aws:"UserName"`
	Tags     []tag   `aws:"Tags"`
}

func iamService() *awsapi.Service {
	return &awsapi.Service{
		ID: "iam", APIVersion: "2010-05-08", Protocols: []string{"query"},
		XMLNamespace: "https://iam.amazonaws.com/doc/2010-05-08/",
		OperationList: []awsapi.Operation{
			{Name: "ListUsers", ResultWrapper: "ListUsersResult",
				NewInput: func() any { return new(listUsersInput) }, NewOutput: func() any { return new(listUsersOutput) }},
			{Name: "DeleteUser", NewInput: func() any { return new(deleteUserInput) }},
			{Name: "TagUser", NewInput: func() any { return new(tagUserInput) }},
		},
		ErrorList: []awsapi.ErrorShape{
			{Name: "NoSuchEntityException", Code: "NoSuchEntity", Status: 404},
		},
	}
}

// handlerFunc is one operation's behaviour in a test server.
type handlerFunc func(ctx context.Context, in any) (any, error)

// newServer serves svc with the query codec and handlers, like the real server's
// request path does (operation, decode, call, encode), without depending on it.
func newServer(t *testing.T, svc *awsapi.Service, handlers map[string]handlerFunc) *httptest.Server {
	t.Helper()
	var c Codec
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		const rid = "req-0001"
		op, err := c.Operation(svc, r)
		if err != nil {
			c.EncodeError(w, r, svc, apierr.As(err), rid)
			return
		}
		in := op.NewInput()
		if err := c.Decode(svc, op, r, in); err != nil {
			e := apierr.As(err)
			if e == nil {
				t.Errorf("Decode returned %T %v, want *apierr.Error", err, err)
				e = apierr.Internal()
			}
			c.EncodeError(w, r, svc, e, rid)
			return
		}
		h := handlers[op.Name]
		if h == nil {
			c.EncodeError(w, r, svc, apierr.NotImplemented(svc.ID, op.Name), rid)
			return
		}
		out, err := h(r.Context(), in)
		if err != nil {
			e := apierr.As(err)
			if e == nil {
				e = apierr.Internal()
			}
			c.EncodeError(w, r, svc, e, rid)
			return
		}
		if err := c.Encode(w, r, svc, op, out, rid); err != nil {
			t.Errorf("Encode: %v", err)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// post sends a form to srv and returns status and body.
func post(t *testing.T, srv *httptest.Server, form string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Post(srv.URL, "application/x-www-form-urlencoded; charset=utf-8", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestOperationErrors(t *testing.T) {
	srv := newServer(t, stsService(), nil)
	cases := []struct {
		name, form string
		status     int
		want       string
	}{
		{"missing action", "Version=2011-06-15", 400, "<Code>MissingAction</Code>"},
		{"unknown action", "Action=Nope&Version=2011-06-15", 400, "<Code>InvalidAction</Code>"},
		{"bad escape", "Action=GetCallerIdentity&X=%zz", 400, "<Code>MalformedQueryString</Code>"},
		{"bad integer", "Action=AssumeRole&RoleArn=a&RoleSessionName=s&DurationSeconds=abc", 400, "<Code>InvalidParameterValue</Code>"},
		{"integer overflow", "Action=AssumeRole&RoleArn=a&RoleSessionName=s&DurationSeconds=99999999999", 400, "<Code>InvalidParameterValue</Code>"},
		{"not implemented", "Action=GetCallerIdentity", 501, "<Code>NotImplemented</Code>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body, h := post(t, srv, tc.form)
			if status != tc.status || !strings.Contains(body, tc.want) {
				t.Fatalf("got %d %s, want %d containing %s", status, body, tc.status, tc.want)
			}
			if !strings.Contains(body, "<Type>Sender</Type>") && tc.status < 500 {
				t.Errorf("client fault not rendered as Sender: %s", body)
			}
			if h.Get("x-amzn-RequestId") != "req-0001" || !strings.HasPrefix(h.Get("Content-Type"), "text/xml") {
				t.Errorf("headers %v", h)
			}
		})
	}
}

func TestDecodeNestedListsAndStructures(t *testing.T) {
	form := url.Values{
		"Action": {"AssumeRole"}, "RoleArn": {"arn:aws:iam::123456789012:role/r"}, "RoleSessionName": {"s"},
		"DurationSeconds":            {"900"},
		"PolicyArns.member.1.arn":    {"arn:a"},
		"PolicyArns.member.2.arn":    {"arn:b"},
		"Tags.member.1.Key":          {"k1"},
		"Tags.member.1.Value":        {"v1"},
		"TransitiveTagKeys.member.1": {"k1"},
		"TransitiveTagKeys.member.3": {"gap: not read"},
	}
	r := httptest.NewRequest("POST", "/", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	svc := stsService()
	var c Codec
	op, err := c.Operation(svc, r)
	if err != nil {
		t.Fatal(err)
	}
	var in assumeRoleInput
	if err := c.Decode(svc, op, r, &in); err != nil {
		t.Fatal(err)
	}
	want := assumeRoleInput{
		RoleArn: awsapi.String("arn:aws:iam::123456789012:role/r"), RoleSessionName: awsapi.String("s"),
		DurationSeconds:   awsapi.Int32(900),
		PolicyArns:        []policyDescriptor{{Arn: awsapi.String("arn:a")}, {Arn: awsapi.String("arn:b")}},
		Tags:              []tag{{Key: awsapi.String("k1"), Value: awsapi.String("v1")}},
		TransitiveTagKeys: []string{"k1"},
	}
	if !reflect.DeepEqual(in, want) {
		t.Fatalf("got %+v\nwant %+v", in, want)
	}
}

func TestEncodeErrorTranslatesShapeNameToQueryCode(t *testing.T) {
	w := httptest.NewRecorder()
	Codec{}.EncodeError(w, httptest.NewRequest("POST", "/", nil), iamService(),
		&apierr.Error{Code: "NoSuchEntityException", Message: "The user with name bob cannot be found."}, "rid")
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code>` +
		`<Message>The user with name bob cannot be found.</Message></Error><RequestId>rid</RequestId></ErrorResponse>`
	if w.Code != 404 || w.Body.String() != want {
		t.Fatalf("got %d %s", w.Code, w.Body.String())
	}
}

func TestEncodeWithoutOutputHasOnlyMetadata(t *testing.T) {
	w := httptest.NewRecorder()
	svc := iamService()
	if err := (Codec{}).Encode(w, httptest.NewRequest("POST", "/", nil), svc, svc.Operations()["DeleteUser"], nil, "rid"); err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<DeleteUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></DeleteUserResponse>`
	if w.Body.String() != want {
		t.Fatalf("got %s", w.Body.String())
	}
}

func TestEncodeTimestampsAndLists(t *testing.T) {
	w := httptest.NewRecorder()
	svc := iamService()
	out := &listUsersOutput{
		Users: []iamUser{{UserName: awsapi.String("a&b"), CreateDate: ptr(time.Date(2014, 9, 22, 23, 19, 4, 0, time.UTC)),
			Tags: []tag{{Key: awsapi.String("k"), Value: awsapi.String("v")}}}},
		IsTruncated: awsapi.Bool(false),
	}
	if err := (Codec{}).Encode(w, nil, svc, svc.Operations()["ListUsers"], out, "rid"); err != nil {
		t.Fatal(err)
	}
	want := `<ListUsersResult><Users><member><UserName>a&amp;b</UserName><CreateDate>2014-09-22T23:19:04Z</CreateDate>` +
		`<Tags><member><Key>k</Key><Value>v</Value></member></Tags></member></Users><IsTruncated>false</IsTruncated></ListUsersResult>`
	if !strings.Contains(w.Body.String(), want) {
		t.Fatalf("got %s\nwant it to contain %s", w.Body.String(), want)
	}
}

func ptr[T any](v T) *T { return &v }

func TestEncodeErrorFaultAndStatus(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    *apierr.Error
		status int
		want   string
	}{
		{"a 5xx is the receiver's fault", apierr.NotImplemented("IAM", "X"), 501, `<Type>Receiver</Type><Code>NotImplemented</Code>`},
		{"a query code takes its shape's status", &apierr.Error{Code: "NoSuchEntity"}, 404, `<Type>Sender</Type><Code>NoSuchEntity</Code>`},
		{"a common error takes the query name", apierr.Validation("bad"), 400, `<Type>Sender</Type><Code>ValidationError</Code>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			Codec{}.EncodeError(w, httptest.NewRequest("POST", "/", nil), iamService(), tc.err, "rid")
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) || w.Header().Get("x-amzn-RequestId") != "rid" {
				t.Fatalf("got %d %s, want %d and %s", w.Code, w.Body.String(), tc.status, tc.want)
			}
		})
	}
}

func TestDecodeRejectsAMissingRequiredMember(t *testing.T) {
	svc := stsService()
	r := httptest.NewRequest("POST", "/", strings.NewReader("Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	err := Codec{}.Decode(svc, svc.Operations()["AssumeRole"], r, new(assumeRoleInput))
	e := apierr.As(err)
	if e == nil || e.Code != "ValidationException" ||
		e.Message != "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null" {
		t.Fatalf("got %v", err)
	}
	w := httptest.NewRecorder()
	Codec{}.EncodeError(w, r, svc, e, "rid")
	if !strings.Contains(w.Body.String(), "<Code>ValidationError</Code>") {
		t.Fatalf("rendered %s", w.Body.String())
	}
}

type setAttributesInput struct {
	Attributes map[string]string `aws:"Attributes" locationName:"Attribute" flattened:"true" keyName:"Name" valueName:"Value"`
}

func TestDecodeMapEntryWithoutKeyIsMissingParameter(t *testing.T) {
	svc := stsService()
	r := httptest.NewRequest("POST", "/", strings.NewReader("Action=AssumeRole&Attribute.1.Value=x"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	err := Codec{}.Decode(svc, svc.Operations()["AssumeRole"], r, new(setAttributesInput))
	// SQS: "MissingParameter: The request must contain the parameter Attribute.Name."
	if e := apierr.As(err); e == nil || e.Code != "MissingParameter" || e.Message != "The request must contain the parameter Attribute.1.Name." {
		t.Fatalf("got %#v", err)
	}
}
