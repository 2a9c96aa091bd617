package app

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/wharf-dev/wharf/internal/authz"
	"github.com/wharf-dev/wharf/internal/awsapi"
	aasapi "github.com/wharf-dev/wharf/internal/awsapi/applicationautoscaling"
	cwapi "github.com/wharf-dev/wharf/internal/awsapi/cloudwatch"
	dynamodbapi "github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	streamsapi "github.com/wharf-dev/wharf/internal/awsapi/dynamodbstreams"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	eventsapi "github.com/wharf-dev/wharf/internal/awsapi/events"
	iamapi "github.com/wharf-dev/wharf/internal/awsapi/iam"
	logsapi "github.com/wharf-dev/wharf/internal/awsapi/logs"
	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
	s3controlapi "github.com/wharf-dev/wharf/internal/awsapi/s3control"
	schedapi "github.com/wharf-dev/wharf/internal/awsapi/scheduler"
	snsapi "github.com/wharf-dev/wharf/internal/awsapi/sns"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	stsapi "github.com/wharf-dev/wharf/internal/awsapi/sts"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/config"
	"github.com/wharf-dev/wharf/internal/eventbus"
	"github.com/wharf-dev/wharf/internal/protocol"
	"github.com/wharf-dev/wharf/internal/protocol/cbor"
	"github.com/wharf-dev/wharf/internal/protocol/jsonrpc"
	"github.com/wharf-dev/wharf/internal/protocol/query"
	"github.com/wharf-dev/wharf/internal/protocol/restjson"
	"github.com/wharf-dev/wharf/internal/protocol/restxml"
	"github.com/wharf-dev/wharf/internal/runtime"
	"github.com/wharf-dev/wharf/internal/runtime/kubernetes"
	"github.com/wharf-dev/wharf/internal/runtime/process"
	"github.com/wharf-dev/wharf/internal/server"
	"github.com/wharf-dev/wharf/internal/service/autoscaling"
	"github.com/wharf-dev/wharf/internal/service/cloudwatch"
	"github.com/wharf-dev/wharf/internal/service/dynamodb"
	"github.com/wharf-dev/wharf/internal/service/ecs"
	"github.com/wharf-dev/wharf/internal/service/ecsservice"
	"github.com/wharf-dev/wharf/internal/service/events"
	"github.com/wharf-dev/wharf/internal/service/iam"
	"github.com/wharf-dev/wharf/internal/service/logs"
	"github.com/wharf-dev/wharf/internal/service/s3"
	"github.com/wharf-dev/wharf/internal/service/scheduler"
	"github.com/wharf-dev/wharf/internal/service/sns"
	"github.com/wharf-dev/wharf/internal/service/sqs"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/timeline"
)

// System is every service of one wharf, one typed field each, built and
// connected by build. Services meet through the narrow interfaces each one
// declares (sns.QueueSender, events.Target, ...); build hands each the others
// it needs, so a wrong or missing connection fails to compile rather than being
// skipped at run time.
type System struct {
	IAM         *iam.Service
	STS         *iam.STS
	S3          *s3.Service // nil when its data directory could not be made
	SQS         *sqs.Service
	SNS         *sns.Service
	Events      *events.Service
	Scheduler   *scheduler.Service
	ECS         *ecs.Service // nil when the task runtime could not start
	ECSServices *ecsservice.Service
	DynamoDB    *dynamodb.Service
	AutoScaling *autoscaling.Service
	CloudWatch  *cloudwatch.Service
	Logs        *logs.Service

	// Runner runs ECS tasks' containers ("docker", "process").
	Runner runtime.Runner
	// Targets are EventBridge's (and Scheduler's) deliverers, by target service.
	Targets EventTargets
	// Authz decides requests (--iam), and EventBridge's deliveries as
	// events.amazonaws.com.
	Authz *authz.Authorizer
	// Timeline records every hop of every event, message and task.
	Timeline *timeline.Log
}

// deps are what services are built from.
type deps struct {
	cfg   *config.Config
	st    store.Store
	log   *slog.Logger
	bus   *eventbus.Bus
	loops *Loops
	// clock is the one clock every service reads.
	clock clock.Clock
	// runner is the task runtime Start chose and reached (chooseRuntime);
	// nil: a process runner with --process-images, for systems built
	// without starting (docs, tests).
	runner runtime.Runner
	// gate is the server's gate, which a reset takes exclusively; nil for
	// systems built without a server (docs, tests).
	gate *server.Gate
}

// round holds d's gate for one round of a service loop's work (see
// scheduler.Options.Round), as a request holds it: a reset waits for the
// round and holds the next until it is done.
func (d deps) round(ctx context.Context) (context.Context, func()) {
	if d.gate == nil {
		return ctx, func() {}
	}
	return d.gate.Round(ctx)
}

// logger is d's logger tagged with service, as every line a service logs is.
func (d deps) logger(service string) *slog.Logger { return d.log.With("service", service) }

// build makes every service and connects them. Services that deliver to each
// other in a cycle (SNS → SQS → CloudWatch → SNS, CloudWatch ↔ Application Auto
// Scaling) are connected with typed setters once both exist.
func build(d deps) *System {
	cfg := d.cfg
	sys := &System{}

	// IAM and STS share one state (roles, access keys, sessions), which is also
	// what the server authenticates against and ECS mints task credentials from.
	sys.IAM = iam.New(iam.Options{Store: d.st, Clock: d.clock, Account: cfg.Account, AccessKey: cfg.AccessKey, SecretKey: cfg.SecretKey})
	sys.STS = sys.IAM.STS()
	// The authorizer reads the other services' resource policies only when
	// it decides, after build: it exists first so that deliveries between
	// services can be authorized as their service principals.
	sys.Authz = sys.authorizer(cfg, d.log)

	sys.Logs = logs.New(logs.Options{Store: d.st, Clock: d.clock, Logger: d.logger("logs")})

	// The alarm loop wakes every second so that alarms on 1-second metrics
	// react in seconds; each alarm is still evaluated once per period.
	sys.CloudWatch = cloudwatch.New(cloudwatch.Options{Store: d.st, Clock: d.clock, Bus: d.bus, Logger: d.logger("cloudwatch"), EvaluationInterval: time.Second})
	sys.Logs.SetMetrics(logsMetrics{sys.CloudWatch}) // metric filters
	d.loops.Go(sys.CloudWatch.Run)

	sys.SQS = sqs.New(sqs.Options{Store: d.st, Clock: d.clock, Logger: d.logger("sqs"), DefaultHost: cfg.Listen})
	// Queue metrics go to CloudWatch as AWS/SQS, where alarms and Application
	// Auto Scaling read the backlog.
	sys.SQS.SetMetrics(sqsMetrics{sys.CloudWatch})
	d.loops.Go(sys.SQS.Run)
	d.loops.Go(sys.SQS.RunMoves) // message move tasks (DLQ redrive), resumed after a restart
	d.loops.Go(sys.SQS.RunMetrics)

	sys.SNS = sns.New(sns.Options{Store: d.st, Clock: d.clock, Logger: d.logger("sns"), DefaultHost: cfg.Listen, SMTPAddr: cfg.SMTPAddr})
	sys.SNS.SetQueueSender(servicePrincipalQueues{sys.SQS, sys.Authz, "sns.amazonaws.com"})
	d.loops.Go(sys.SNS.Run)
	sys.CloudWatch.SetTopicPublisher(sys.SNS)

	sys.S3 = buildS3(d, s3Notifier{servicePrincipalQueues{sys.SQS, sys.Authz, "s3.amazonaws.com"}, sys.SNS, sys.Authz})

	sys.DynamoDB = dynamodb.New(dynamodb.Options{Store: d.st, Clock: d.clock, Logger: d.logger("dynamodb")})
	sys.DynamoDB.SetMetrics(sys.CloudWatch) // AWS/DynamoDB consumed and provisioned capacity
	d.loops.Go(sys.DynamoDB.Run)
	d.loops.Go(sys.DynamoDB.RunMetrics)

	buildECS(d, sys)

	sys.AutoScaling = autoscaling.New(autoscaling.Options{Store: d.st, Clock: d.clock, Logger: d.logger("application-autoscaling"), Round: d.round})
	// CloudWatch's own GetMetricData, PutMetricAlarm and DeleteAlarms are the
	// interfaces: nothing CloudWatch-specific is needed.
	sys.AutoScaling.SetMetrics(sys.CloudWatch)
	sys.AutoScaling.SetAlarms(sys.CloudWatch)
	sys.AutoScaling.SetTables(sys.DynamoDB) // provisioned capacity of tables and indexes
	if sys.ECSServices != nil {
		sys.AutoScaling.SetServices(sys.ECSServices) // the desired count scaling decides on
	}
	d.loops.Go(sys.AutoScaling.Run)
	sys.CloudWatch.SetScalingPolicyExecutor(alarmActions{sys.AutoScaling})

	sys.Targets = EventTargets{
		// EventBridge delivers to queues and topics as events.amazonaws.com
		// (their policies must let it in) or with the target's role (which
		// must allow the call); Scheduler always with the schedule's role.
		SQS: authorizedBatchTarget{
			authorizedTarget{events.SQSTarget{Queues: sys.SQS}, sys.Authz, "sqs:SendMessage", sendMessageCall},
			events.SQSTarget{Queues: sys.SQS},
		},
		SNS:  authorizedTarget{events.SNSTarget{Topics: sys.SNS}, sys.Authz, "sns:Publish", publishCall},
		Logs: events.LogsTarget{Groups: logGroups{sys.Logs}, Clock: d.clock},
	}
	if sys.ECS != nil {
		sys.Targets.ECS = authorizedTarget{ecsTarget{sys.ECS}, sys.Authz, "", runTaskCall}
		sys.ECS.SetRoleTrust(taskRoleTrust{sys.Authz}) // a task's roles must trust ecs-tasks.amazonaws.com
	}
	sys.Events = events.New(events.Options{Store: d.st, Clock: d.clock, Logger: d.logger("events"), Account: cfg.Account, Region: cfg.Region,
		Targets: sys.Targets.For, Volatile: cfg.Ephemeral, Round: d.round})
	d.bus.Attach(sys.Events)
	d.loops.Go(sys.Events.Run)

	// Firings are delivered by EventBridge, through its targets, retries and
	// dead-letter queues.
	sys.Scheduler = scheduler.New(scheduler.Options{Store: d.st, Clock: d.clock, Logger: d.logger("scheduler"), Account: cfg.Account, Region: cfg.Region,
		Round: d.round})
	sys.Scheduler.SetSubmitter(sys.Events)
	d.loops.Go(sys.Scheduler.Run)

	sys.observe(d)
	return sys
}

// buildS3 makes S3, or returns nil (its operations then answer NotImplemented)
// when its data directory cannot be made.
func buildS3(d deps, n s3.Notifier) *s3.Service {
	log := d.logger("s3")
	dir, ephemeral := filepath.Join(d.cfg.DataDir, "s3"), d.cfg.Ephemeral
	if ephemeral {
		// --ephemeral keeps nothing on disk after wharf stops: object bytes go
		// to a temporary directory removed at shutdown.
		tmp, err := os.MkdirTemp("", "wharf-s3-")
		if err != nil {
			log.Error("s3: temporary data directory", "err", err)
			return nil
		}
		dir = tmp
		d.loops.GoNow(func(ctx context.Context) {
			<-ctx.Done()
			os.RemoveAll(tmp)
		})
	}
	svc, err := s3.New(s3.Options{Store: d.st, Clock: d.clock, Dir: dir, NoSync: ephemeral, Bus: d.bus, Logger: log, Region: d.cfg.Region, Notifier: n})
	if err != nil {
		log.Error("s3: not started", "err", err)
		return nil
	}
	if !ephemeral {
		// Files a crash left unreferenced are removed in the background: only
		// files present before this start are candidates, so the sweep never
		// races the PUTs being served.
		d.loops.GoNow(func(ctx context.Context) {
			n, err := svc.SweepOrphans(ctx)
			if err != nil && ctx.Err() == nil {
				log.Warn("s3: orphan sweep", "err", err)
			} else if n > 0 {
				log.Info("s3: removed files left by a crash", "files", n)
			}
		})
	}
	return svc
}

// buildECS makes ECS and ECS services on the chosen task runtime, or leaves
// them nil (their operations then answer NotImplemented) when ECS cannot start.
func buildECS(d deps, sys *System) {
	log := d.logger("ecs")
	runner := d.runner
	if runner == nil {
		runner = process.New(d.cfg.ProcessImageList()...)
	}
	svc, err := ecs.New(ecs.Options{
		Store: d.st, Clock: d.clock, Logger: log, Runner: runner, Bus: d.bus,
		Account: d.cfg.Account, Region: d.cfg.Region, Endpoint: containerEndpoint(d.cfg.Listen), AdvertiseURL: d.cfg.AdvertiseURL,
		Credentials: roleCredentials{sys.STS}, RemoveOnShutdown: d.cfg.Ephemeral, StatsInterval: d.cfg.ECSStatsInterval,
	})
	if err != nil {
		log.Error("ecs: not started", "err", err)
		return
	}
	sys.ECS, sys.Runner = svc, runner
	svc.SetMetrics(sys.CloudWatch) // AWS/ECS CPUUtilization and MemoryUtilization
	d.loops.Go(svc.Run)
	d.loops.GoNow(func(ctx context.Context) {
		<-ctx.Done()
		switch r := chosenRunner(runner).(type) {
		case *process.Runner:
			// Host processes cannot be re-adopted: end them with wharf.
			r.Close()
		case *kubernetes.Runner:
			// Pods outlive wharf (the next one re-adopts them); the watch does not.
			r.Close()
		}
	})
	svc.SetLogWriter(ecsLogs{sys.Logs}) // the awslogs driver
	if sys.S3 != nil {
		svc.SetObjectReader(sys.S3) // environmentFiles
	}
	// ECS services: their controller drives tasks through svc's own task API.
	sys.ECSServices = ecsservice.New(ecsservice.Options{Store: d.st, Clock: d.clock, Logger: log, Bus: d.bus, Tasks: svc,
		Account: d.cfg.Account, Region: d.cfg.Region, Round: d.round})
	sys.ECSServices.SetMetrics(sys.CloudWatch)
	svc.SetServices(sys.ECSServices) // DescribeClusters' activeServicesCount, task definitions in use
	d.loops.Go(sys.ECSServices.Run)
}

// EventTargets are the deliverers of each kind of EventBridge target, one
// field per service in events.TargetServices.
type EventTargets struct {
	ECS, Logs, SNS, SQS events.Target
}

// For returns the target for an ARN's service, or nil when wharf has none.
func (t EventTargets) For(service string) events.Target {
	switch service {
	case "ecs":
		return t.ECS
	case "logs":
		return t.Logs
	case "sns":
		return t.SNS
	case "sqs":
		return t.SQS
	}
	return nil
}

// registrations are what the server serves: every service of the model list,
// each with the handlers of the behaviour built for it. A service whose
// behaviour is not built is still registered from its model, so each of its
// operations answers with an AWS error (NotImplemented) rather than an
// unknown-service one.
func (sys *System) registrations() []server.Registration {
	// The bind functions (operations_gen.go) give each the handlers its
	// package's Bind would find.
	regs := []server.Registration{
		{Desc: stsapi.Service, Handlers: bindIamSTS(sys.STS)},
		{Desc: iamapi.Service, Handlers: bindIamService(sys.IAM)},
		{Desc: s3api.Service},
		{Desc: sqsapi.Service, Handlers: bindSqsService(sys.SQS)},
		{Desc: snsapi.Service, Handlers: bindSnsService(sys.SNS)},
		{Desc: eventsapi.Service, Handlers: bindEventsService(sys.Events)},
		{Desc: schedapi.Service, Handlers: bindSchedulerService(sys.Scheduler)},
		{Desc: ecsapi.Service},
		{Desc: dynamodbapi.Service, Handlers: bindDynamodbStored(sys.DynamoDB)},
		{Desc: streamsapi.Service, Handlers: bindDynamodbStreams(sys.DynamoDB.Streams())},
		{Desc: aasapi.Service, Handlers: bindAutoscalingService(sys.AutoScaling)},
		{Desc: cwapi.Service, Handlers: bindCloudwatchService(sys.CloudWatch)},
		{Desc: logsapi.Service, Handlers: bindLogsService(sys.Logs)},
		{Desc: s3controlapi.Service},
	}
	if sys.S3 != nil {
		regs[2].Handlers, regs[2].CORS, regs[2].Check = sys.S3.CheckingOwners(bindS3Service(sys.S3)), sys.S3.CORS, sys.S3.Check
		// S3 Control's account-level settings are S3's state.
		regs[len(regs)-1].Handlers = bindS3Control(sys.S3.Control())
	}
	if sys.ECS != nil {
		// ECS services (CreateService ...) are another package's behaviour on
		// the same AWS service: their operations join ECS's.
		h := bindEcsService(sys.ECS)
		for op, f := range bindEcsserviceService(sys.ECSServices) {
			if _, ours := h[op]; !ours {
				h[op] = f
			}
		}
		regs[7].Handlers = h
	}
	return regs
}

// Keys are the access keys the server authenticates against (IAM users, STS
// sessions).
func (sys *System) Keys() awsapi.Keys { return sys.IAM }

// codecs returns one codec per protocol.
func codecs() map[string]protocol.Codec {
	return map[string]protocol.Codec{
		awsapi.ProtocolJSON:     jsonrpc.New(),
		awsapi.ProtocolRestJSON: restjson.New(),
		awsapi.ProtocolCBOR:     cbor.New(),
		awsapi.ProtocolQuery:    query.Codec{},
		awsapi.ProtocolRestXML:  restxml.Codec{},
	}
}
