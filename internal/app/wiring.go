package app

import (
	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/awsapi/applicationautoscaling"
	"github.com/wharf-dev/wharf/internal/awsapi/cloudwatch"
	"github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	"github.com/wharf-dev/wharf/internal/awsapi/ecs"
	"github.com/wharf-dev/wharf/internal/awsapi/events"
	"github.com/wharf-dev/wharf/internal/awsapi/iam"
	"github.com/wharf-dev/wharf/internal/awsapi/logs"
	"github.com/wharf-dev/wharf/internal/awsapi/s3"
	"github.com/wharf-dev/wharf/internal/awsapi/scheduler"
	"github.com/wharf-dev/wharf/internal/awsapi/sns"
	"github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/awsapi/sts"
	"github.com/wharf-dev/wharf/internal/protocol"
	"github.com/wharf-dev/wharf/internal/protocol/cbor"
	"github.com/wharf-dev/wharf/internal/protocol/jsonrpc"
	"github.com/wharf-dev/wharf/internal/protocol/query"
	"github.com/wharf-dev/wharf/internal/protocol/restjson"
	"github.com/wharf-dev/wharf/internal/protocol/restxml"
	"github.com/wharf-dev/wharf/internal/server"
	iamsvc "github.com/wharf-dev/wharf/internal/service/iam"
)

// models are every service wharf serves. A service whose behaviour is not built yet
// is still registered from its model, so each of its operations answers with an AWS
// error (NotImplemented) rather than an unknown-service one.
var models = []*awsapi.Service{
	sts.Service, iam.Service, s3.Service, sqs.Service, sns.Service, events.Service,
	scheduler.Service, ecs.Service, dynamodb.Service, applicationautoscaling.Service,
	cloudwatch.Service, logs.Service,
}

// A builder makes one service from the shared dependencies. Each service's wiring
// lives in its own file (wire_<service>.go) and appends its builder in init, so
// adding a service touches one new file.
type builder func(d Deps) server.Registration

var builders []builder

// keySources are the services that resolve access keys (IAM users, STS sessions).
var keySources []func(d Deps) awsapi.Keys

// services builds every service wharf registers, and the key store the server
// authenticates against.
func services(d Deps) ([]server.Registration, awsapi.Keys) {
	built := map[string]server.Registration{}
	// IAM and STS share one state (roles, access keys, sessions), which is also
	// what the server authenticates against.
	idm := iamsvc.New(iamsvc.Options{Store: d.Store, Account: d.Config.Account, AccessKey: d.Config.AccessKey, SecretKey: d.Config.SecretKey})
	built[iam.Service.ID] = server.Registration{Desc: iam.Service, Handlers: iam.Bind(idm)}
	built[sts.Service.ID] = server.Registration{Desc: sts.Service, Handlers: sts.Bind(idm.STS())}
	for _, b := range builders {
		r := b(d)
		built[r.Desc.ID] = r
	}
	var regs []server.Registration
	for _, m := range models {
		r, ok := built[m.ID]
		if !ok {
			r = server.Registration{Desc: m}
		}
		regs = append(regs, r)
	}
	var keys awsapi.Keys = idm
	for _, k := range keySources {
		keys = k(d) // one key source today (IAM/STS)
	}
	return regs, keys
}

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
