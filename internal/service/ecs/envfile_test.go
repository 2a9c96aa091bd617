package ecs

import (
	"context"
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
)

func TestParseEnvFile(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     map[string]string
		err      string // part of the error, or "" for none
	}{
		{name: "variables", in: "A=1\nB=two\n", want: map[string]string{"A": "1", "B": "two"}},
		{name: "comments and blank lines are ignored", in: "# a comment\n\nA=1\n   \n\t# indented comment\n", want: map[string]string{"A": "1"}},
		{name: "a # after the start is part of the value", in: "A=1 # not a comment\n", want: map[string]string{"A": "1 # not a comment"}},
		{name: "quotes and spaces are part of the value", in: `A="quoted"` + "\nB='single'\nC= spaced \n", want: map[string]string{"A": `"quoted"`, "B": "'single'", "C": " spaced "}},
		{name: "no escape processing", in: `A=a\nb $HOME ${X}` + "\n", want: map[string]string{"A": `a\nb $HOME ${X}`}},
		{name: "value is everything after the first =", in: "URL=https://x/?a=b&c=d\n", want: map[string]string{"URL": "https://x/?a=b&c=d"}},
		{name: "empty value", in: "A=\n", want: map[string]string{"A": ""}},
		{name: "leading whitespace before the name is ignored", in: "  \tA=1\n", want: map[string]string{"A": "1"}},
		{name: "CRLF line ends", in: "A=1\r\nB=2\r\n", want: map[string]string{"A": "1", "B": "2"}},
		{name: "no final newline", in: "A=1", want: map[string]string{"A": "1"}},
		{name: "byte order mark", in: "\ufeffA=1\n", want: map[string]string{"A": "1"}},
		{name: "a later line wins", in: "A=1\nA=2\n", want: map[string]string{"A": "2"}},
		{name: "a name without = sets nothing (never the host's value)", in: "HOME\nA=1\n", want: map[string]string{"A": "1"}},
		{name: "export is not shell syntax", in: "export A=1\n", err: "contains whitespaces"},
		{name: "space before =", in: "A =1\n", err: "line 1 contains whitespaces"},
		{name: "no name", in: "A=1\n=2\n", err: "no variable name on line 2"},
		{name: "invalid UTF-8", in: "A=1\nB=\xff\n", err: "invalid utf8 bytes at line 2"},
		{name: "NUL byte", in: "A=1\x00\n", err: "NUL byte at line 1"},
		{name: "empty file", in: "", want: map[string]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseEnvFile([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("parseEnvFile(%q) error = %v, want %q", tc.in, err, tc.err)
				}
				return
			}
			if err != nil || !maps.Equal(got, tc.want) {
				t.Errorf("parseEnvFile(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func FuzzParseEnvFile(f *testing.F) {
	for _, s := range []string{"A=1\nB=2\n", "# c\n\nA=\"q\"\r\n", "\ufeffX=a=b", "A =1", "=1", "HOME\n", "\xff", "A=\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		vars, err := parseEnvFile(b)
		if err != nil {
			return
		}
		// Whatever is accepted is a valid process environment: names without
		// = or whitespace, nothing with NUL.
		for k, v := range vars {
			if k == "" || strings.ContainsAny(k, "= \t\r\n\x00") || strings.ContainsAny(v, "\x00\n") {
				t.Fatalf("parseEnvFile(%q) accepted %q=%q", b, k, v)
			}
		}
	})
}

func TestParseS3ARN(t *testing.T) {
	for _, tc := range []struct {
		arn, bucket, key string
		ok               bool
	}{
		{"arn:aws:s3:::cfg/app.env", "cfg", "app.env", true},
		{"arn:aws:s3:::cfg/dir/sub/app.env", "cfg", "dir/sub/app.env", true},
		{"arn:aws-cn:s3:::cfg/a:b.env", "cfg", "a:b.env", true},
		{"arn:aws:s3:::cfg", "", "", false},
		{"arn:aws:s3:::cfg/", "", "", false},
		{"arn:aws:s3:us-east-1:000000000000:cfg/a.env", "", "", false},
		{"arn:aws:sqs:::cfg/a.env", "", "", false},
		{"s3://cfg/a.env", "", "", false},
		{"", "", "", false},
	} {
		b, k, err := parseS3ARN(tc.arn)
		if (err == nil) != tc.ok || b != tc.bucket || k != tc.key {
			t.Errorf("parseS3ARN(%q) = %q, %q, %v", tc.arn, b, k, err)
		}
	}
}

// fakeObjects is an ObjectReader over fixed objects, recording its reads.
type fakeObjects struct {
	mu      sync.Mutex
	objects map[string]string // account/bucket/key → body
	reads   []string
}

func (f *fakeObjects) ReadObject(_ context.Context, account, bucket, key string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads = append(f.reads, account+"/"+bucket+"/"+key)
	body, ok := f.objects[account+"/"+bucket+"/"+key]
	if !ok {
		return nil, &apierr.Error{Code: "NoSuchKey", Status: 404, Message: "The specified key does not exist."}
	}
	return []byte(body), nil
}

func envFile(arn string) ecsapi.EnvironmentFile {
	return ecsapi.EnvironmentFile{Value: awsapi.String(arn), Type: awsapi.String("s3")}
}

func kv(name, value string) ecsapi.KeyValuePair {
	return ecsapi.KeyValuePair{Name: &name, Value: &value}
}

func envOf(spec []string) map[string]string {
	env := map[string]string{}
	for _, e := range spec {
		k, v, _ := strings.Cut(e, "=")
		env[k] = v
	}
	return env
}

func TestEnvironmentFilesMergeUnderExplicitEnvironment(t *testing.T) {
	h := newHarness(t, newFakeRunner(), nil)
	objs := &fakeObjects{objects: map[string]string{
		"000000000000/cfg/first.env":  "# shared settings\nFROM_FILE=one\nSHARED=first\nEXPLICIT=from-file\nOVERRIDDEN=from-file\nAWS_REGION=eu-west-1\n",
		"000000000000/cfg/second.env": "SHARED=second\nSECOND_ONLY=2\n",
		"000000000000/cfg/other.env":  "OTHER=1\n",
	}}
	h.svc.SetObjectReader(objs)
	main := container("main", "img", true)
	main.Environment = []ecsapi.KeyValuePair{kv("EXPLICIT", "explicit"), kv("OVERRIDDEN", "explicit")}
	main.EnvironmentFiles = []ecsapi.EnvironmentFile{envFile("arn:aws:s3:::cfg/first.env"), envFile("arn:aws:s3:::cfg/second.env")}
	side := container("side", "img", false)
	side.EnvironmentFiles = []ecsapi.EnvironmentFile{envFile("arn:aws:s3:::cfg/first.env")}
	plain := container("plain", "img", false)
	td := h.register("app", main, side, plain)
	task := h.run(td, &ecsapi.TaskOverride{ContainerOverrides: []ecsapi.ContainerOverride{
		{Name: awsapi.String("main"), Environment: []ecsapi.KeyValuePair{kv("OVERRIDDEN", "override")}},
		// An override's files replace the definition's.
		{Name: awsapi.String("side"), EnvironmentFiles: []ecsapi.EnvironmentFile{envFile("arn:aws:s3:::cfg/other.env")}},
	}})
	h.waitStatus(*task.TaskArn, "RUNNING")

	env := envOf(h.fake.spec("main").Env)
	for k, want := range map[string]string{
		"FROM_FILE":   "one",
		"SHARED":      "first", // files are processed from the top down: the first one's value stays
		"SECOND_ONLY": "2",
		"EXPLICIT":    "explicit",  // environment takes precedence over files
		"OVERRIDDEN":  "override",  // and RunTask overrides over both
		"AWS_REGION":  "us-east-1", // what wharf injects is not replaced by a file
	} {
		if env[k] != want {
			t.Errorf("main: %s = %q, want %q", k, env[k], want)
		}
	}
	sideEnv := envOf(h.fake.spec("side").Env)
	if sideEnv["OTHER"] != "1" || sideEnv["FROM_FILE"] != "" {
		t.Errorf("side (override files) env = %v", sideEnv)
	}
	if _, ok := envOf(h.fake.spec("plain").Env)["FROM_FILE"]; ok {
		t.Error("a container without environment files got a file's variable")
	}
	objs.mu.Lock()
	defer objs.mu.Unlock()
	if strings.Join(objs.reads, ",") != "000000000000/cfg/first.env,000000000000/cfg/second.env,000000000000/cfg/other.env" {
		t.Errorf("reads = %v (each file once, as the task's account)", objs.reads)
	}
}

func TestEnvironmentFileThatCannotBeReadFailsTheTaskStart(t *testing.T) {
	for _, tc := range []struct {
		name    string
		objects map[string]string
		reader  bool
		arn     string
		reason  string
	}{
		{name: "missing object", reader: true, arn: "arn:aws:s3:::cfg/missing.env",
			reason: "ResourceInitializationError: failed to download env files: unable to download env file with key missing.env from bucket cfg: NoSuchKey: The specified key does not exist."},
		{name: "malformed file", reader: true, objects: map[string]string{"000000000000/cfg/bad.env": "OK=1\nexport BAD=1\n"}, arn: "arn:aws:s3:::cfg/bad.env",
			reason: `ResourceInitializationError: failed to download env files: env file arn:aws:s3:::cfg/bad.env: variable "export BAD" on line 2 contains whitespaces`},
		{name: "not an S3 object ARN", reader: true, arn: "s3://cfg/a.env",
			reason: "ResourceInitializationError: failed to download env files: unable to parse bucket and key from s3 ARN specified in environmentFile s3://cfg/a.env"},
		{name: "S3 not running", reader: false, arn: "arn:aws:s3:::cfg/a.env",
			reason: "ResourceInitializationError: failed to download env files: unable to download env file with key a.env from bucket cfg: S3 is not running"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, newFakeRunner(), nil)
			if tc.reader {
				h.svc.SetObjectReader(&fakeObjects{objects: tc.objects})
			}
			first := container("first", "img", false)
			main := container("main", "img", true)
			main.EnvironmentFiles = []ecsapi.EnvironmentFile{envFile(tc.arn)}
			task := h.run(h.register("app", first, main), nil)
			d := h.waitStatus(*task.TaskArn, "STOPPED")
			if d["stopCode"] != "TaskFailedToStart" || d["stoppedReason"] != tc.reason {
				t.Errorf("stopCode %v, stoppedReason %q; want TaskFailedToStart, %q", d["stopCode"], d["stoppedReason"], tc.reason)
			}
			// The files are read before any container starts.
			if h.fake.started("first") || h.fake.started("main") {
				t.Error("a container started although the task's environment files could not be read")
			}
			if got := h.describe(*task.TaskArn); awsapi.ToString(got.StoppedReason) != tc.reason || awsapi.ToString(got.LastStatus) != "STOPPED" {
				t.Errorf("DescribeTasks = %s, %q", awsapi.ToString(got.LastStatus), awsapi.ToString(got.StoppedReason))
			}
		})
	}
}

func TestRegisterTaskDefinitionChecksEnvironmentFiles(t *testing.T) {
	h := newHarness(t, newFakeRunner(), nil)
	many := make([]ecsapi.EnvironmentFile, maxEnvFiles+1)
	for i := range many {
		many[i] = envFile("arn:aws:s3:::cfg/a.env")
	}
	for _, tc := range []struct {
		name  string
		files []ecsapi.EnvironmentFile
		ok    bool
	}{
		{"ten files", many[:maxEnvFiles], true},
		{"eleven files", many, false},
		{"type other than s3", []ecsapi.EnvironmentFile{{Value: awsapi.String("arn:aws:s3:::cfg/a.env"), Type: awsapi.String("http")}}, false},
		{"no value", []ecsapi.EnvironmentFile{{Type: awsapi.String("s3")}}, false},
	} {
		c := container("main", "img", true)
		c.EnvironmentFiles = tc.files
		_, err := h.svc.RegisterTaskDefinition(h.ctx, &ecsapi.RegisterTaskDefinitionInput{Family: awsapi.String("app"), ContainerDefinitions: []ecsapi.ContainerDefinition{c}})
		if e := apierr.As(err); (err == nil) != tc.ok || (err != nil && (e == nil || e.Code != "ClientException")) {
			t.Errorf("%s: RegisterTaskDefinition error = %v", tc.name, err)
		}
	}
	// environmentFiles are honoured, so not named among the ignored fields.
	c := container("main", "img", true)
	c.EnvironmentFiles = many[:1]
	if got := unsupported([]ecsapi.ContainerDefinition{c}, nil); len(got) != 0 {
		t.Errorf("unsupported = %v", got)
	}
}
