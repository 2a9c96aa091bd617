package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strings"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/authz"
	"github.com/wharf-dev/wharf/internal/awsapi"
	ddbapi "github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	snsapi "github.com/wharf-dev/wharf/internal/awsapi/sns"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	stsapi "github.com/wharf-dev/wharf/internal/awsapi/sts"
	"github.com/wharf-dev/wharf/internal/config"
	"github.com/wharf-dev/wharf/internal/service/dynamodb/partiql"
	"github.com/wharf-dev/wharf/internal/service/ecs"
	"github.com/wharf-dev/wharf/internal/service/events"
	"github.com/wharf-dev/wharf/internal/timeline"
)

// authorizer makes the request path's authorization step (--iam) over sys:
// IAM answers who a caller is and which policies apply, ECS the roles a task
// definition passes, and each resource's service its resource-based policy.
func (sys *System) authorizer(cfg *config.Config, log *slog.Logger) *authz.Authorizer {
	return authz.New(authz.Options{
		Mode:           cfg.IAM,
		Logger:         log.With("service", "iam"),
		Principals:     sys.IAM,
		ResourcePolicy: sys.resourcePolicy,
		ResourceTags:   sys.resourceTags,
		ObjectTags:     sys.objectTags,
		ObjectExists:   sys.objectExists,
		Lookup:         sys.authzLookup,
		OnDenial:       sys.recordDenial,
	})
}

// resourcePolicy returns the resource-based policy of the resource arn and
// the account owning it: a role's trust policy, a bucket policy with the
// bucket's and object's ACLs (for the bucket and its objects), a queue's or a
// topic's Policy attribute.
func (sys *System) resourcePolicy(ctx context.Context, arn string) (policy, account string, err error) {
	parts, ok := splitARN(arn)
	if !ok {
		return "", "", nil
	}
	switch parts[2] {
	case "iam":
		if strings.HasPrefix(parts[5], "role/") {
			doc, _, err := sys.IAM.RoleTrust(ctx, arn)
			return doc, "", err
		}
	case "s3":
		if sys.S3 != nil {
			return sys.S3.ResourcePolicy(ctx, parts[5])
		}
	case "sqs":
		doc, _, err := sys.SQS.QueuePolicy(parts[4], parts[3], parts[5])
		return doc, "", err
	case "sns":
		doc, owner, _, err := sys.SNS.TopicPolicy(arn)
		return doc, owner, err
	case "dynamodb":
		if sys.DynamoDB != nil {
			doc, err := sys.DynamoDB.TablePolicy(arn)
			return doc, "", err
		}
	case "events":
		if strings.HasPrefix(parts[5], "event-bus/") {
			doc, err := sys.Events.BusPolicy(arn)
			return doc, "", err
		}
	}
	return "", "", nil
}

// splitARN splits arn at its first five colons, as strings.SplitN(arn,
// ":", 6) does but into an array: every request's authorization looks up
// its resource's policy, and the slice was an allocation each time. ok is
// false unless there are six parts and the first is "arn".
func splitARN(arn string) (parts [6]string, ok bool) {
	for i := range 5 {
		j := strings.IndexByte(arn, ':')
		if j < 0 {
			return parts, false
		}
		parts[i], arn = arn[:j], arn[j+1:]
	}
	parts[5] = arn
	return parts, parts[0] == "arn"
}

// resourceTags returns the tags of the resource arn for aws:ResourceTag/KEY,
// for the services that authorize by them ("AWS services that work with
// IAM", ABAC column): SQS queues, SNS topics, DynamoDB tables, IAM users and
// roles, ECS clusters, services, task definitions, tasks and capacity
// providers, log groups (and their streams), EventBridge buses and rules,
// Scheduler groups (and their schedules), CloudWatch alarms. S3 buckets are
// left out: a general purpose bucket's tags take part in authorization only
// once ABAC is enabled on it (PutBucketAbac), which wharf does not
// implement, and it is off by default.
func (sys *System) resourceTags(ctx context.Context, arn string) (map[string]string, error) {
	parts, ok := splitARN(arn)
	if !ok {
		return nil, nil
	}
	switch parts[2] {
	case "iam":
		return sys.IAM.EntityTags(ctx, arn)
	case "sqs":
		return sys.SQS.QueueTags(parts[4], parts[3], parts[5])
	case "sns":
		return sys.SNS.TopicTags(arn)
	case "dynamodb":
		_, tags, _, err := sys.DynamoDB.TableAuthorization(arn)
		return tags, err
	case "ecs":
		if strings.HasPrefix(parts[5], "service/") {
			if sys.ECSServices == nil {
				return nil, nil
			}
			return sys.ECSServices.ServiceTags(arn)
		}
		if sys.ECS != nil {
			return sys.ECS.ResourceTags(arn)
		}
	case "logs":
		if sys.Logs != nil {
			return sys.Logs.GroupTags(arn)
		}
	case "events":
		if sys.Events != nil {
			return sys.Events.ResourceTags(arn)
		}
	case "scheduler":
		if sys.Scheduler != nil {
			return sys.Scheduler.ResourceTags(arn)
		}
	case "cloudwatch":
		if sys.CloudWatch != nil {
			return sys.CloudWatch.AlarmTags(arn)
		}
	}
	return nil, nil
}

// objectTags returns the tags of the S3 object arn names, for
// s3:ExistingObjectTag/KEY.
func (sys *System) objectTags(_ context.Context, arn string) (map[string]string, error) {
	path, ok := strings.CutPrefix(arn, "arn:aws:s3:::")
	bucket, key, isObject := strings.Cut(path, "/")
	if !ok || !isObject || sys.S3 == nil {
		return nil, nil
	}
	return sys.S3.ObjectTags(bucket, key)
}

// objectExists reports whether the S3 object arn names exists, for the
// answer to a read of a missing object.
func (sys *System) objectExists(_ context.Context, arn string) (bool, error) {
	path, ok := strings.CutPrefix(arn, "arn:aws:s3:::")
	bucket, key, isObject := strings.Cut(path, "/")
	if !ok || !isObject || sys.S3 == nil {
		return true, nil
	}
	return sys.S3.ObjectExists(bucket, key)
}

// authzLookup answers iamaction's named lookups: {@taskdef-roles} is the
// task and execution roles of a RunTask or StartTask task definition, which
// the caller passes to ECS; {@leading-keys} the partition key values a
// DynamoDB request reads or writes; {@tagged-session} the role an AssumeRole with
// session tags tags a session of; {@partiql-KIND} the tables of PartiQL
// statements.
func (sys *System) authzLookup(ctx context.Context, name string, input any) []string {
	if kind, ok := strings.CutPrefix(name, "partiql-"); ok {
		return partiqlTables(kind, input)
	}
	if name == "leading-keys" && sys.DynamoDB != nil {
		c := awsapi.CallerFrom(ctx)
		return sys.DynamoDB.LeadingKeys(c.Account, c.Region, input)
	}
	if name == "tagged-session" {
		// AssumeRole with session tags also needs sts:TagSession on the role.
		if in, ok := input.(*stsapi.AssumeRoleInput); ok && len(in.Tags) > 0 && in.RoleArn != nil {
			return []string{*in.RoleArn}
		}
		return nil
	}
	if name != "taskdef-roles" || sys.ECS == nil {
		return nil
	}
	var td *string
	var ov *ecsapi.TaskOverride
	switch in := input.(type) {
	case *ecsapi.RunTaskInput:
		td, ov = in.TaskDefinition, in.Overrides
	case *ecsapi.StartTaskInput:
		td, ov = in.TaskDefinition, in.Overrides
	}
	if ov == nil {
		ov = &ecsapi.TaskOverride{}
	}
	if td == nil {
		return nil
	}
	out, err := sys.ECS.DescribeTaskDefinition(ctx, &ecsapi.DescribeTaskDefinitionInput{TaskDefinition: td})
	if err != nil || out.TaskDefinition == nil {
		return nil // the operation reports a missing task definition itself
	}
	// A role the overrides replace is not passed: the override's is, and is
	// checked as such ({Overrides.TaskRoleArn} in actions.txt).
	var roles []string
	for _, r := range []struct{ def, override *string }{
		{out.TaskDefinition.TaskRoleArn, ov.TaskRoleArn}, {out.TaskDefinition.ExecutionRoleArn, ov.ExecutionRoleArn},
	} {
		if awsapi.ToString(r.def) != "" && awsapi.ToString(r.override) == "" {
			roles = append(roles, *r.def)
		}
	}
	return roles
}

// authorizedTarget decides, before EventBridge or Scheduler delivers to a
// target, what AWS decides for that delivery. A target with a RoleArn is
// reached with that role: its trust policy must let the delivering service
// (events.amazonaws.com, or scheduler.amazonaws.com for a schedule) assume
// it, for the rule or schedule as aws:SourceArn, and the role's policies (and
// the resource's) must allow the call the service then makes (call). A queue
// or topic target without a role is reached as the service principal itself,
// so the resource's policy must let it perform action. A refusal is a
// DeliveryError that EventBridge does not retry and dead-letters with AWS's
// ERROR_CODE. Under --iam audit the delivery goes on and the denial is
// recorded.
type authorizedTarget struct {
	inner events.Target
	az    *authz.Authorizer
	// action is what the service principal needs on a target without a
	// role ("" when the target cannot be reached without one).
	action string
	// call is the API call the service makes with the role's credentials.
	call func(d *events.Delivery) (service, op string, input any)
}

func (t authorizedTarget) Deliver(ctx context.Context, d *events.Delivery) error {
	if t.az != nil && t.az.Mode() != config.IAMOff {
		if err := t.authorize(ctx, d); err != nil {
			return err
		}
	}
	return t.inner.Deliver(ctx, d)
}

// authorizedBatchTarget is an authorizedTarget whose inner target takes
// several deliveries to one resource at once (SQS: one commit per queue and
// dispatcher round).
type authorizedBatchTarget struct {
	authorizedTarget
	batch events.BatchTarget // the inner target
}

// DeliverBatch authorizes each of ds as Deliver does, and delivers those
// allowed together.
func (t authorizedBatchTarget) DeliverBatch(ctx context.Context, ds []*events.Delivery) []error {
	if t.az == nil || t.az.Mode() == config.IAMOff {
		return t.batch.DeliverBatch(ctx, ds)
	}
	errs := make([]error, len(ds))
	allowed := make([]*events.Delivery, 0, len(ds))
	at := make([]int, 0, len(ds)) // ds index of allowed[i]
	for i, d := range ds {
		if errs[i] = t.authorize(timeline.WithCause(ctx, d.EventID), d); errs[i] == nil {
			allowed, at = append(allowed, d), append(at, i)
		}
	}
	if len(allowed) > 0 {
		for i, err := range t.batch.DeliverBatch(ctx, allowed) {
			errs[at[i]] = err
		}
	}
	return errs
}

func (t authorizedTarget) authorize(ctx context.Context, d *events.Delivery) error {
	principal, source := "events.amazonaws.com", d.RuleArn
	if d.ScheduleArn != "" {
		principal, source = "scheduler.amazonaws.com", d.ScheduleArn
	}
	target, role := awsapi.ToString(d.Target.Arn), awsapi.ToString(d.Target.RoleArn)
	if role == "" {
		if t.action == "" {
			return nil
		}
		if err := t.az.AuthorizeService(ctx, principal, t.action, target, source, d.Account); err != nil {
			return &events.DeliveryError{Code: "NO_PERMISSIONS", Err: err}
		}
		return nil
	}
	if err := t.az.AuthorizeService(ctx, principal, "sts:AssumeRole", role, source, d.Account); err != nil {
		return &events.DeliveryError{Code: "FAILED_TO_ASSUME_ROLE", Err: err}
	}
	svc, op, in := t.call(d)
	c := &awsapi.Caller{ARN: roleSession(role, source), Account: arnField(role, 4), Region: d.Region,
		Service: svc, Operation: op, RequestID: d.EventID}
	if c.Region == "" {
		c.Region = arnField(target, 3)
	}
	if err := t.az.Authorize(awsapi.WithCaller(ctx, c), c, op, in); err != nil {
		return &events.DeliveryError{Code: "NO_PERMISSIONS", Err: err}
	}
	return nil
}

// roleSession is the ARN of the session a service opens with role for
// source. Its name is stable for a rule or schedule (a hash of it), as the
// opaque names AWS's services give their sessions are.
func roleSession(role, source string) string {
	name := role[strings.LastIndexByte(role, '/')+1:]
	sum := sha256.Sum256([]byte(source))
	return "arn:aws:sts::" + arnField(role, 4) + ":assumed-role/" + name + "/" + hex.EncodeToString(sum[:16])
}

// arnField is the i-th colon-separated field of an ARN, "" when it has none.
func arnField(arn string, i int) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 {
		return ""
	}
	return parts[i]
}

// sendMessageCall is the SendMessage a queue target's delivery makes.
func sendMessageCall(d *events.Delivery) (string, string, any) {
	arn := awsapi.ToString(d.Target.Arn)
	url := "/" + arnField(arn, 4) + "/" + arnField(arn, 5)
	return "sqs", "SendMessage", &sqsapi.SendMessageInput{QueueUrl: &url}
}

// publishCall is the Publish a topic target's delivery makes.
func publishCall(d *events.Delivery) (string, string, any) {
	return "sns", "Publish", &snsapi.PublishInput{TopicArn: d.Target.Arn}
}

// runTaskCall is the RunTask an ECS target's delivery makes: ecs:RunTask on
// the task definition in the target's cluster, and iam:PassRole for the task
// definition's roles ("Amazon ECS Events role", the role's permissions) and
// for the roles the target's input overrides them with (taskRoleArn,
// executionRoleArn), since those are the ones the task gets.
func runTaskCall(d *events.Delivery) (string, string, any) {
	in := &ecsapi.RunTaskInput{Cluster: d.Target.Arn, Overrides: ecs.OverridesFromInput(d.Input)}
	if p := d.Target.EcsParameters; p != nil {
		in.TaskDefinition = p.TaskDefinitionArn
	}
	return "ecs", "RunTask", in
}

// taskRoleTrust is ECS's RoleTrust: a task's role must trust
// ecs-tasks.amazonaws.com. Refused (under --iam enforce), RunTask fails with
// the ClientException AWS answers.
type taskRoleTrust struct{ az *authz.Authorizer }

func (t taskRoleTrust) TaskMayAssume(ctx context.Context, account, clusterArn, role string) error {
	if t.az.Mode() == config.IAMOff {
		return nil
	}
	if err := t.az.AuthorizeService(ctx, "ecs-tasks.amazonaws.com", "sts:AssumeRole", role, clusterArn, account); err != nil {
		return apierr.New("ClientException", 400, "ECS was unable to assume the role '%s' that was provided for this task. "+
			"Please verify that the role being passed has the proper trust relationship and permissions and that your IAM user has permissions to pass this role.", role)
	}
	return nil
}

// partiqlTables answers {@partiql-KIND}: the tables (table/index for an index
// read) the PartiQL statements of an ExecuteStatement, BatchExecuteStatement
// or ExecuteTransaction read or write with KIND (select, insert, update,
// delete), each authorized as dynamodb:PartiQLKIND on it ("Actions, resources
// and condition keys for Amazon DynamoDB"). An EXISTS check reads, as a
// select. A statement that does not parse is left for the operation to
// refuse.
func partiqlTables(kind string, input any) []string {
	type stmt struct {
		src    string
		params []ddbapi.AttributeValue
	}
	var stmts []stmt
	switch in := input.(type) {
	case *ddbapi.ExecuteStatementInput:
		stmts = append(stmts, stmt{awsapi.ToString(in.Statement), in.Parameters})
	case *ddbapi.BatchExecuteStatementInput:
		for _, s := range in.Statements {
			stmts = append(stmts, stmt{awsapi.ToString(s.Statement), s.Parameters})
		}
	case *ddbapi.ExecuteTransactionInput:
		for _, s := range in.TransactStatements {
			stmts = append(stmts, stmt{awsapi.ToString(s.Statement), s.Parameters})
		}
	}
	var out []string
	for _, s := range stmts {
		st, err := partiql.Parse(s.src, s.params)
		if err != nil || st == nil {
			continue
		}
		k := strings.ToLower(string(st.Kind))
		if st.Kind == partiql.Exists {
			k = "select"
		}
		if k != kind {
			continue
		}
		res := st.Table
		if st.Index != "" {
			res += "/index/" + st.Index
		}
		out = append(out, res)
	}
	return out
}
