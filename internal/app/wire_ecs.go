package app

import (
	"context"
	"net"
	"os"
	"strings"

	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	stsapi "github.com/wharf-dev/wharf/internal/awsapi/sts"
	"github.com/wharf-dev/wharf/internal/runtime"
	"github.com/wharf-dev/wharf/internal/runtime/docker"
	"github.com/wharf-dev/wharf/internal/runtime/process"
	"github.com/wharf-dev/wharf/internal/server"
	"github.com/wharf-dev/wharf/internal/service/ecs"
	"github.com/wharf-dev/wharf/internal/service/ecsservice"
	"github.com/wharf-dev/wharf/internal/service/events"
	iamsvc "github.com/wharf-dev/wharf/internal/service/iam"
	"github.com/wharf-dev/wharf/internal/service/logs"
)

// roleCredentials mints task role credentials through STS AssumeRole, acting
// as the task's account root. IAM keeps all its state in the store, so this
// second handle on it shares the sessions the server authenticates against.
type roleCredentials struct{ sts *iamsvc.STS }

func (c roleCredentials) CredentialsForRole(ctx context.Context, account, roleARN, session string) (ecs.Credentials, error) {
	ctx = awsapi.WithCaller(ctx, &awsapi.Caller{Account: account, Service: "sts", Operation: "AssumeRole"})
	out, err := c.sts.AssumeRole(ctx, &stsapi.AssumeRoleInput{RoleArn: &roleARN, RoleSessionName: &session})
	if err != nil {
		return ecs.Credentials{}, err
	}
	cr := out.Credentials
	return ecs.Credentials{
		AccessKeyID: awsapi.ToString(cr.AccessKeyId), SecretAccessKey: awsapi.ToString(cr.SecretAccessKey),
		SessionToken: awsapi.ToString(cr.SessionToken), Expiration: *cr.Expiration,
	}, nil
}

// logLineWriter is CloudWatch Logs' exported PutLogLines.
type logLineWriter interface {
	PutLogLines(ctx context.Context, account, region, group, stream string, lines []logs.LogLine) error
}

// logsAdapter gives ECS's awslogs output to CloudWatch Logs.
type logsAdapter struct{ w logLineWriter }

func (a logsAdapter) PutLogLines(ctx context.Context, account, region, group, stream string, lines []ecs.LogLine) error {
	out := make([]logs.LogLine, len(lines))
	for i, l := range lines {
		out[i] = logs.LogLine{Time: l.Time, Message: l.Message}
	}
	return a.w.PutLogLines(ctx, account, region, group, stream, out)
}

// ecsTarget is EventBridge's (and Scheduler's) ECS target: RunTask with the
// target's EcsParameters, its Arn naming the cluster.
type ecsTarget struct{ svc *ecs.Service }

func (t ecsTarget) Deliver(ctx context.Context, d *events.Delivery) error {
	p := ecs.EcsTargetParams{ClusterArn: awsapi.ToString(d.Target.Arn)}
	if e := d.Target.EcsParameters; e != nil {
		p.TaskDefinitionArn, p.TaskCount = awsapi.ToString(e.TaskDefinitionArn), int(awsapi.ToInt32(e.TaskCount))
		p.LaunchType, p.PlatformVersion = awsapi.ToString(e.LaunchType), awsapi.ToString(e.PlatformVersion)
		p.Group, p.PropagateTags = awsapi.ToString(e.Group), awsapi.ToString(e.PropagateTags)
		for _, c := range e.CapacityProviderStrategy {
			p.CapacityProviders = append(p.CapacityProviders, awsapi.ToString(c.CapacityProvider))
		}
		if len(e.Tags) > 0 {
			p.Tags = map[string]string{}
			for _, tag := range e.Tags {
				p.Tags[awsapi.ToString(tag.Key)] = awsapi.ToString(tag.Value)
			}
		}
	}
	// Tasks a rule starts say so: startedBy "events-rule/<rule name>".
	if i := strings.LastIndexByte(d.RuleArn, '/'); i >= 0 && strings.Contains(d.RuleArn, ":rule/") {
		p.StartedBy = "events-rule/" + d.RuleArn[i+1:]
	}
	return t.svc.RunTaskFromEvent(ctx, d.Account, d.Region, p, d.Input)
}

// chooseRuntime picks the task runtime --runtime names, or docker when an
// engine answers and process otherwise.
func chooseRuntime(d Deps) runtime.Runner {
	switch d.Config.Runtime {
	case "process":
		return process.New()
	case "docker":
		r, err := docker.New(os.Getenv)
		if err == nil {
			return r
		}
		d.Logger.Error("ecs: docker runtime", "service", "ecs", "err", err)
		return process.New()
	}
	if r, ok := docker.Available(context.Background()); ok {
		return r
	}
	return process.New()
}

// containerEndpoint is wharf's address as a task's container (host network)
// reaches it: a wildcard listen address becomes loopback.
func containerEndpoint(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func init() {
	builders = append(builders, func(d Deps) server.Registration {
		runner := chooseRuntime(d)
		idm := iamsvc.New(iamsvc.Options{Store: d.Store, Account: d.Config.Account, AccessKey: d.Config.AccessKey, SecretKey: d.Config.SecretKey})
		svc, err := ecs.New(ecs.Options{
			Store: d.Store, Logger: d.Logger, Runner: runner, Bus: d.Bus,
			Account: d.Config.Account, Region: d.Config.Region, Endpoint: containerEndpoint(d.Config.Listen),
			Credentials: roleCredentials{sts: idm.STS()}, RemoveOnShutdown: d.Config.Ephemeral,
		})
		if err != nil {
			d.Logger.Error("ecs: not started", "service", "ecs", "err", err)
			return server.Registration{Desc: ecsapi.Service}
		}
		d.Registry.Provide("runtime", runner.Name()) // said in the ready line
		d.Loops.Go(svc.Run)
		if p, ok := runner.(*process.Runner); ok {
			// Host processes cannot be re-adopted: end them with wharf.
			d.Loops.Go(func(ctx context.Context) { <-ctx.Done(); p.Close() })
		}
		d.Registry.Provide("ecs", svc)
		// ECS services: their controller drives tasks through svc's own task
		// API; their operations join this registration as "ecs-services".
		services := ecsservice.New(ecsservice.Options{Store: d.Store, Logger: d.Logger, Bus: d.Bus, Tasks: svc,
			Account: d.Config.Account, Region: d.Config.Region})
		d.Loops.Go(services.Run)
		d.Registry.Provide("ecs-services", services)
		d.Registry.AfterBuild(func() {
			if m, ok := d.Registry.Lookup("cloudwatch").(ecsservice.Metrics); ok {
				services.SetMetrics(m)
			}
		})
		registerEventTarget(d, "ecs", ecsTarget{svc})
		d.Registry.AfterBuild(func() {
			switch w := d.Registry.Lookup("logs").(type) {
			case ecs.LogWriter:
				svc.SetLogWriter(w)
			case logLineWriter:
				svc.SetLogWriter(logsAdapter{w})
			}
			if r, ok := d.Registry.Lookup("s3").(ecs.ObjectReader); ok {
				svc.SetObjectReader(r) // environmentFiles
			}
		})
		// ECS services (CreateService ...) are another package's behaviour on
		// the same AWS service: when it is provided as "ecs-services", its
		// operations join this registration (the server reads the map after
		// AfterBuild hooks ran).
		handlers := ecsapi.Bind(svc)
		d.Registry.AfterBuild(func() {
			if other := d.Registry.Lookup("ecs-services"); other != nil {
				for op, h := range ecsapi.Bind(other) {
					if _, ours := handlers[op]; !ours {
						handlers[op] = h
					}
				}
			}
		})
		return server.Registration{Desc: ecsapi.Service, Handlers: handlers}
	})
}
