// Command iam measures what authorization costs: the same request mix (SQS
// SendMessage, DynamoDB PutItem and GetItem, S3 PutObject and GetObject of
// 1 KiB) sent by an IAM user to wharf with --iam off and with --iam enforce,
// in one run. The user has 50 managed policies (-policies) of 20 statements
// each (-statements): 20 attached to the user itself (IAM's PoliciesPerUser
// quota at its maximum) and the rest through groups of 10 (IAM's default
// managed-policies-per-group quota; a user may be in 10 groups), the way an
// account reaches that many policies on AWS. Only the last statement of the
// last policy allows the mix, so every request is decided against all of
// them (1000 statements by default). It reports wharf's CPU time per request
// (user+system, from /proc) in each mode and their ratio; it asserts
// nothing. -baseline measures an older wharf binary the same way in the same
// run. Every server (each binary with --iam off and with --iam enforce) runs
// and is driven at the same time, each by its own -clients, so that whatever
// else loads the machine falls on all of them alike; -rounds repeats that
// with fresh servers. -debug-addr starts the enforcing wharf with
// --debug-addr, to profile it while the mix runs.
//
//	go run ./bench/iam [-duration 5s] [-rounds 2] [-clients 4] [-policies 50] [-statements 20] [-baseline path/to/older/wharf]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/wharf-dev/wharf/bench/internal/benchkit"
)

// IAM's quotas the policies are spread within: managed policies attached to
// a user (PoliciesPerUser at its maximum), to a group (the default), and the
// groups a user may be in.
const (
	userPolicies  = 20
	groupPolicies = 10
	maxGroups     = 10
)

var (
	policies   = flag.Int("policies", 50, "managed policies that apply to the user: 20 attached to it, the rest through groups of 10")
	statements = flag.Int("statements", 20, "statements per policy")
	debugAddr  = flag.String("debug-addr", "", "start the --iam enforce wharf (not the baseline) with --debug-addr (pprof) on this loopback address")
)

func main() {
	duration := flag.Duration("duration", 5*time.Second, "how long each round drives the mix")
	rounds := flag.Int("rounds", 2, "rounds, each with fresh servers")
	clients := flag.Int("clients", 4, "concurrent clients per server")
	baseline := flag.String("baseline", "", "an older wharf binary measured beside this one")
	flag.Parse()
	if *policies < 1 || *policies > userPolicies+groupPolicies*maxGroups || *statements < 1 || *rounds < 1 {
		fail(fmt.Errorf("-policies must be 1 to %d, -statements and -rounds at least 1", userPolicies+groupPolicies*maxGroups))
	}
	bin, err := benchkit.BuildWharf()
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(filepath.Dir(bin))
	type binary struct{ label, path string }
	bins := []binary{{"wharf", bin}}
	if *baseline != "" {
		bins = append(bins, binary{"baseline", *baseline})
	}
	type total struct {
		requests, errors int64
		cpu              time.Duration
	}
	totals := map[string]*total{}
	ratios := map[string][]float64{}
	for range *rounds {
		var servers []*server
		for _, b := range bins {
			for _, mode := range []string{"off", "enforce"} {
				srv, err := setUp(b.path, b.label, mode, *clients)
				if err != nil {
					for _, s := range servers {
						s.stop()
					}
					fail(fmt.Errorf("%s --iam %s: %w", b.label, mode, err))
				}
				servers = append(servers, srv)
			}
		}
		results := make([]total, len(servers))
		c0 := make([]time.Duration, len(servers))
		for i, srv := range servers {
			c0[i], err = cpuOf(srv.cmd.Process.Pid)
			if err != nil {
				fail(err)
			}
		}
		deadline := time.Now().Add(*duration)
		var wg sync.WaitGroup
		for i, srv := range servers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i].requests, results[i].errors = srv.drive(deadline, *clients)
			}()
		}
		wg.Wait()
		per := map[string]float64{}
		for i, srv := range servers {
			c1, err := cpuOf(srv.cmd.Process.Pid)
			if err != nil {
				fail(err)
			}
			srv.stop()
			k := srv.label + " " + srv.mode
			if totals[k] == nil {
				totals[k] = &total{}
			}
			totals[k].requests += results[i].requests
			totals[k].errors += results[i].errors
			totals[k].cpu += c1 - c0[i]
			per[k] = float64((c1 - c0[i]).Microseconds()) / float64(max(results[i].requests, 1))
		}
		for _, b := range bins {
			ratios[b.label] = append(ratios[b.label], per[b.label+" enforce"]/per[b.label+" off"])
		}
	}
	fmt.Printf("request mix as an IAM user with %d policies x %d statements (%d attached to the user, %d through groups), %d clients per server, %d rounds of %s, all servers at once\n",
		*policies, *statements, min(*policies, userPolicies), max(*policies-userPolicies, 0), *clients, *rounds, *duration)
	fmt.Printf("%-10s %-8s %10s %8s %12s %16s\n", "binary", "--iam", "requests", "errors", "server CPU", "CPU per request")
	for _, b := range bins {
		per := map[string]float64{}
		for _, mode := range []string{"off", "enforce"} {
			t := totals[b.label+" "+mode]
			p := float64(t.cpu.Microseconds()) / float64(max(t.requests, 1))
			per[mode] = p
			fmt.Printf("%-10s %-8s %10d %8d %12s %13.1f µs\n", b.label, mode, t.requests, t.errors, t.cpu.Round(time.Millisecond), p)
		}
		ratio := per["enforce"] / per["off"]
		var each []string
		for _, r := range ratios[b.label] {
			each = append(each, fmt.Sprintf("%.3f", r))
		}
		fmt.Printf("%-10s enforce / off server CPU per request: %.3f (%+.1f%%; rounds: %s); target <= 1.10: %s\n", b.label, ratio, (ratio-1)*100,
			strings.Join(each, " "), map[bool]string{true: "met", false: "missed"}[ratio <= 1.10])
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

// cpuOf is the user+system CPU time process pid has used, from /proc.
func cpuOf(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100, nil // USER_HZ is 100 on Linux
}

// server is one wharf, set up for the mix and ready to be driven.
type server struct {
	label, mode string
	cmd         *exec.Cmd
	mix         []func(i int) error
}

// stop ends the server.
func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.cmd.Wait()
}

// drive sends the mix from clients concurrent clients until deadline.
func (s *server) drive(deadline time.Time, clients int) (requests, errs int64) {
	var n, nerr atomic.Int64
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; time.Now().Before(deadline); i += clients {
				if err := s.mix[i%len(s.mix)](i); err != nil {
					nerr.Add(1)
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return n.Load(), nerr.Load()
}

// setUp starts bin with --iam mode and makes the user, its policies and
// groups, and the queue, table and bucket the mix uses.
func setUp(bin, label, mode string, clients int) (srv *server, err error) {
	port, err := benchkit.FreePort()
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "--ephemeral", "--iam", mode, "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "warn"}
	if *debugAddr != "" && mode == "enforce" && label == "wharf" {
		args = append(args, "--debug-addr", *debugAddr)
	}
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	srv = &server{label: label, mode: mode, cmd: cmd}
	defer func() {
		if err != nil {
			srv.stop()
		}
	}()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		if resp, err := http.Get(base + "/_wharf/health"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Since(start) > 60*time.Second {
			return nil, fmt.Errorf("wharf did not become ready")
		}
	}
	ctx := context.Background()
	cfg := func(key, secret string) aws.Config {
		return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(base),
			Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""),
			HTTPClient:  &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}}
	}
	root := cfg("test", "test")
	ic := iam.NewFromConfig(root)
	if _, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bench")}); err != nil {
		return nil, err
	}
	// Policies 0-19 are attached to the user, the rest to groups of 10 the
	// user is in.
	for p := range *policies {
		var st []string
		for s := range *statements {
			action, res := "s3:GetBucketTagging", fmt.Sprintf("arn:aws:s3:::other-%d-%d", p, s)
			if p == *policies-1 && s == *statements-1 {
				action, res = `["sqs:SendMessage","dynamodb:PutItem","dynamodb:GetItem","s3:PutObject","s3:GetObject"]`, "*"
				st = append(st, fmt.Sprintf(`{"Sid":"S%d","Effect":"Allow","Action":%s,"Resource":%q}`, s, action, res))
				continue
			}
			st = append(st, fmt.Sprintf(`{"Sid":"S%d","Effect":"Allow","Action":%q,"Resource":%q,"Condition":{"StringEquals":{"aws:PrincipalTag/team":"t%d"}}}`, s, action, res, s))
		}
		doc := `{"Version":"2012-10-17","Statement":[` + strings.Join(st, ",") + `]}`
		out, err := ic.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprint("p", p)), PolicyDocument: aws.String(doc)})
		if err != nil {
			return nil, err
		}
		if p < userPolicies {
			_, err = ic.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bench"), PolicyArn: out.Policy.Arn})
		} else {
			g := aws.String(fmt.Sprint("g", (p-userPolicies)/groupPolicies))
			if (p-userPolicies)%groupPolicies == 0 {
				if _, err := ic.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: g}); err != nil {
					return nil, err
				}
				if _, err := ic.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: g, UserName: aws.String("bench")}); err != nil {
					return nil, err
				}
			}
			_, err = ic.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: g, PolicyArn: out.Policy.Arn})
		}
		if err != nil {
			return nil, err
		}
	}
	k, err := ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bench")})
	if err != nil {
		return nil, err
	}
	s3opts := func(o *s3.Options) { o.UsePathStyle = true }
	if _, err := s3.NewFromConfig(root, s3opts).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil {
		return nil, err
	}
	if _, err := dynamodb.NewFromConfig(root).CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("bench"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest}); err != nil {
		return nil, err
	}
	q, err := sqs.NewFromConfig(root).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("bench")})
	if err != nil {
		return nil, err
	}
	user := cfg(*k.AccessKey.AccessKeyId, *k.AccessKey.SecretAccessKey)
	sq, ddb, s3c := sqs.NewFromConfig(user), dynamodb.NewFromConfig(user), s3.NewFromConfig(user, s3opts)
	body := bytes.Repeat([]byte("b"), 1024)
	mix := []func(i int) error{
		func(i int) error {
			_, err := sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("m")})
			return err
		},
		func(i int) error {
			_, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("bench"),
				Item: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: strconv.Itoa(i % 100)}}})
			return err
		},
		func(i int) error {
			_, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("bench"),
				Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: strconv.Itoa(i % 100)}}})
			return err
		},
		func(i int) error {
			_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String(strconv.Itoa(i % 100)), Body: bytes.NewReader(body)})
			return err
		},
		func(i int) error {
			out, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bench"), Key: aws.String("0")})
			if err == nil {
				out.Body.Close()
			}
			return err
		},
	}
	if err := mix[3](0); err != nil { // object "0" exists before GetObject runs
		return nil, fmt.Errorf("the user's first request: %w", err)
	}
	srv.mix = mix
	return srv, nil
}
