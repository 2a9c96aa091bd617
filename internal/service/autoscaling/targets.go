package autoscaling

import (
	"context"
	"encoding/base64"
	"slices"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	aas "github.com/wharf-dev/wharf/internal/awsapi/applicationautoscaling"
	"github.com/wharf-dev/wharf/internal/lazyregexp"
	"github.com/wharf-dev/wharf/internal/store"
)

// ECS services' desired count, DynamoDB provisioned capacity and custom
// resources (an application's endpoint) are what wharf scales; the other
// namespaces are validated as AWS does and refused at registration, since
// wharf has none of their resources.
const (
	namespaceECS = "ecs"
	dimensionECS = "ecs:service:DesiredCount"
)

var namespaces = []string{"ecs", "elasticmapreduce", "ec2", "appstream", "dynamodb", "rds", "sagemaker",
	"custom-resource", "comprehend", "lambda", "cassandra", "kafka", "elasticache", "neptune", "workspaces"}

// dimensions are AWS's scalable dimensions (the ScalableDimension enum) with
// the resource ids each takes ("RegisterScalableTarget" docs, ResourceId).
var dimensions = []struct {
	name     string
	resource *lazyregexp.Regexp
}{
	{"ecs:service:DesiredCount", lazyregexp.New(`^service/[^/]+/[^/]+$`)},
	{"ec2:spot-fleet-request:TargetCapacity", lazyregexp.New(`^spot-fleet-request/sfr-[0-9A-Za-z-]+$`)},
	{"elasticmapreduce:instancegroup:InstanceCount", lazyregexp.New(`^instancegroup/j-[A-Za-z0-9]+/ig-[A-Za-z0-9]+$`)},
	{"appstream:fleet:DesiredCapacity", lazyregexp.New(`^fleet/[^/]+$`)},
	{"dynamodb:table:ReadCapacityUnits", lazyregexp.New(`^table/[a-zA-Z0-9_.-]{3,255}$`)},
	{"dynamodb:table:WriteCapacityUnits", lazyregexp.New(`^table/[a-zA-Z0-9_.-]{3,255}$`)},
	{"dynamodb:index:ReadCapacityUnits", lazyregexp.New(`^table/[a-zA-Z0-9_.-]{3,255}/index/[a-zA-Z0-9_.-]{3,255}$`)},
	{"dynamodb:index:WriteCapacityUnits", lazyregexp.New(`^table/[a-zA-Z0-9_.-]{3,255}/index/[a-zA-Z0-9_.-]{3,255}$`)},
	{"rds:cluster:ReadReplicaCount", lazyregexp.New(`^cluster:[^/]+$`)},
	{"sagemaker:variant:DesiredInstanceCount", lazyregexp.New(`^endpoint/[^/]+/variant/[^/]+$`)},
	{"sagemaker:variant:DesiredProvisionedConcurrency", lazyregexp.New(`^endpoint/[^/]+/variant/[^/]+$`)},
	{"sagemaker:inference-component:DesiredCopyCount", lazyregexp.New(`^inference-component/[^/]+$`)},
	// AWS's are API Gateway https URLs; wharf also calls a local http one.
	{"custom-resource:ResourceType:Property", lazyregexp.New(`^https?://.+`)},
	{"comprehend:document-classifier-endpoint:DesiredInferenceUnits", lazyregexp.New(`^arn:[^:]+:comprehend:[^:]+:[0-9]{12}:document-classifier-endpoint/.+`)},
	{"comprehend:entity-recognizer-endpoint:DesiredInferenceUnits", lazyregexp.New(`^arn:[^:]+:comprehend:[^:]+:[0-9]{12}:entity-recognizer-endpoint/.+`)},
	{"lambda:function:ProvisionedConcurrency", lazyregexp.New(`^function:[^:]+:[^:]+$`)},
	{"cassandra:table:ReadCapacityUnits", lazyregexp.New(`^keyspace/[^/]+/table/[^/]+$`)},
	{"cassandra:table:WriteCapacityUnits", lazyregexp.New(`^keyspace/[^/]+/table/[^/]+$`)},
	{"kafka:broker-storage:VolumeSize", lazyregexp.New(`^arn:[^:]+:kafka:[^:]+:[0-9]{12}:cluster/.+`)},
	{"elasticache:cache-cluster:Nodes", lazyregexp.New(`^cache-cluster/[^/]+$`)},
	{"elasticache:replication-group:NodeGroups", lazyregexp.New(`^replication-group/[^/]+$`)},
	{"elasticache:replication-group:Replicas", lazyregexp.New(`^replication-group/[^/]+$`)},
	{"neptune:cluster:ReadReplicaCount", lazyregexp.New(`^cluster:[^/]+$`)},
	{"workspaces:workspacespool:DesiredUserSessions", lazyregexp.New(`^workspacespool/wspool-[a-z0-9]+$`)},
}

// dynamoTarget splits a DynamoDB target into its table, index ("" for the
// table itself) and whether it scales writes.
func dynamoTarget(id targetID) (table, index string, write bool) {
	rest := strings.TrimPrefix(id.ResourceID, "table/")
	table, index, _ = strings.Cut(rest, "/index/")
	return table, index, strings.HasSuffix(id.Dimension, ":WriteCapacityUnits")
}

// target is a scalable target's stored state.
type target struct {
	ID        targetID          `json:"id"`
	Min       int32             `json:"min"`
	Max       int32             `json:"max"`
	RoleARN   string            `json:"role"`
	ARN       string            `json:"arn"`
	Created   time.Time         `json:"created"`
	Suspended suspended         `json:"suspended"`
	Tags      map[string]string `json:"tags,omitempty"`
	// Capacity is the desired count as last set or read; it is the capacity
	// used when ECS is not connected.
	Capacity int32 `json:"capacity"`
	// Cooldown state: the last scale-out at LastOut from OutBase tasks, and
	// the last scale-in at LastIn. The cooldowns themselves are the policy's.
	LastOut time.Time `json:"lastOut,omitzero"`
	OutBase int32     `json:"outBase,omitempty"`
	LastIn  time.Time `json:"lastIn,omitzero"`
	// The last not-scaled reason recorded, to record each at most once a minute.
	NotScaledCode string    `json:"nsCode,omitempty"`
	NotScaledAt   time.Time `json:"nsAt,omitzero"`
}

type suspended struct {
	In, Out, Scheduled bool
}

func (t *target) api() aas.ScalableTarget {
	return aas.ScalableTarget{
		ServiceNamespace:  awsapi.String(t.ID.Namespace),
		ResourceId:        awsapi.String(t.ID.ResourceID),
		ScalableDimension: awsapi.String(t.ID.Dimension),
		MinCapacity:       awsapi.Int32(t.Min),
		MaxCapacity:       awsapi.Int32(t.Max),
		RoleARN:           awsapi.String(t.RoleARN),
		CreationTime:      &t.Created,
		ScalableTargetARN: awsapi.String(t.ARN),
		SuspendedState: &aas.SuspendedState{
			DynamicScalingInSuspended:  awsapi.Bool(t.Suspended.In),
			DynamicScalingOutSuspended: awsapi.Bool(t.Suspended.Out),
			ScheduledScalingSuspended:  awsapi.Bool(t.Suspended.Scheduled),
		},
	}
}

// enumError is the wording of AWS's request validation for an enum member.
func enumError(value, member string, set []string) *apierr.Error {
	return apierr.Validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]",
		value, member, strings.Join(set, ", "))
}

func checkNamespace(ns *string) (string, error) {
	if ns == nil || *ns == "" {
		return "", apierr.Validation("1 validation error detected: Value null at 'serviceNamespace' failed to satisfy constraint: Member must not be null")
	}
	if !slices.Contains(namespaces, *ns) {
		return "", enumError(*ns, "serviceNamespace", namespaces)
	}
	return *ns, nil
}

// ecsService splits an ECS resource id, service/<cluster>/<service>.
func ecsService(resourceID string) (cluster, service string, ok bool) {
	rest, ok := strings.CutPrefix(resourceID, "service/")
	if !ok {
		return "", "", false
	}
	cluster, service, ok = strings.Cut(rest, "/")
	if !ok || cluster == "" || service == "" || strings.Contains(service, "/") {
		return "", "", false
	}
	return cluster, service, true
}

// checkTarget validates a namespace, resource id and dimension that must name
// a scalable target wharf can scale.
func checkTarget(ns, resourceID, dimension *string) (targetID, error) {
	n, err := checkNamespace(ns)
	if err != nil {
		return targetID{}, err
	}
	id := targetID{n, awsapi.ToString(resourceID), awsapi.ToString(dimension)}
	if id.ResourceID == "" {
		return id, apierr.Validation("1 validation error detected: Value null at 'resourceId' failed to satisfy constraint: Member must not be null")
	}
	if id.Dimension == "" {
		return id, apierr.Validation("1 validation error detected: Value null at 'scalableDimension' failed to satisfy constraint: Member must not be null")
	}
	names := make([]string, len(dimensions))
	for i, d := range dimensions {
		names[i] = d.name
	}
	i := slices.Index(names, id.Dimension)
	if i < 0 {
		return id, enumError(id.Dimension, "scalableDimension", names)
	}
	if !strings.HasPrefix(id.Dimension, n+":") || !dimensions[i].resource.MatchString(id.ResourceID) {
		return id, apierr.Validation("Unsupported service namespace, resource type or scalable dimension")
	}
	return id, nil
}

// RegisterScalableTarget registers an ECS service's desired count, or updates a
// registered one: omitted parameters keep their values. A new minimum above
// (or maximum below) the current capacity scales to it at once, as AWS does.
func (s *Service) RegisterScalableTarget(ctx context.Context, in *aas.RegisterScalableTargetInput) (*aas.RegisterScalableTargetOutput, error) {
	id, err := checkTarget(in.ServiceNamespace, in.ResourceId, in.ScalableDimension)
	if err != nil {
		return nil, err
	}
	if in.MinCapacity != nil && *in.MinCapacity < 0 {
		return nil, apierr.Validation("1 validation error detected: Value '%d' at 'minCapacity' failed to satisfy constraint: Member must have value greater than or equal to 0", *in.MinCapacity)
	}
	if in.MaxCapacity != nil && *in.MaxCapacity < 0 {
		return nil, apierr.Validation("1 validation error detected: Value '%d' at 'maxCapacity' failed to satisfy constraint: Member must have value greater than or equal to 0", *in.MaxCapacity)
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	if id.Namespace != namespaceECS && id.Namespace != "dynamodb" && id.Namespace != namespaceCustom {
		// AWS checks the resource exists; wharf has none of this kind.
		return nil, apierr.Validation("Unable to register %s: wharf has no %s resources to scale (it scales ECS services, DynamoDB provisioned capacity and custom resources).", id.ResourceID, id.Namespace)
	}
	sc := scopeOf(ctx)
	current, connected, err := s.readCapacity(ctx, sc, id)
	if err != nil {
		if ae := apierr.As(err); ae != nil && ae.Code != "ValidationException" {
			if id.Namespace == namespaceECS {
				return nil, apierr.Validation("ECS service doesn't exist: %s", id.ResourceID)
			}
			return nil, apierr.Validation("DynamoDB table or index doesn't exist: %s", id.ResourceID)
		}
		return nil, err
	}
	if !connected {
		current = -1
	}
	now := s.clock.Now()
	var t target
	var arn string
	var scaleTo int32 = -1
	err = s.st.Update(func(tx store.Tx) error {
		found, err := getJSON(tx, sc.targetKey(id), &t)
		if err != nil {
			return err
		}
		if !found {
			if in.MinCapacity == nil || in.MaxCapacity == nil {
				return apierr.Validation("MinCapacity and MaxCapacity are required for registering a new scalable target")
			}
			t = target{ID: id, Created: now,
				ARN:     "arn:aws:application-autoscaling:" + sc.region + ":" + sc.account + ":scalable-target/" + s.hex(18)[:36],
				RoleARN: "arn:aws:iam::" + sc.account + ":role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService",
			}
			switch id.Namespace {
			case "dynamodb":
				t.RoleARN = "arn:aws:iam::" + sc.account + ":role/aws-service-role/dynamodb.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"
			case namespaceCustom:
				t.RoleARN = customRoleARN(sc.account)
			}
			t.Capacity = *in.MinCapacity
		}
		if in.MinCapacity != nil {
			t.Min = *in.MinCapacity
		}
		if in.MaxCapacity != nil {
			t.Max = *in.MaxCapacity
		}
		if t.Min > t.Max {
			return apierr.Validation("Maximum capacity cannot be less than minimum capacity")
		}
		if in.RoleARN != nil && *in.RoleARN != "" {
			t.RoleARN = *in.RoleARN
		}
		if ss := in.SuspendedState; ss != nil {
			if ss.DynamicScalingInSuspended != nil {
				t.Suspended.In = *ss.DynamicScalingInSuspended
			}
			if ss.DynamicScalingOutSuspended != nil {
				t.Suspended.Out = *ss.DynamicScalingOutSuspended
			}
			if ss.ScheduledScalingSuspended != nil {
				t.Suspended.Scheduled = *ss.ScheduledScalingSuspended
			}
		}
		if !found && len(in.Tags) > 0 {
			t.Tags = map[string]string{}
			for k, v := range in.Tags {
				t.Tags[k] = v
			}
		}
		if current >= 0 {
			t.Capacity = current
		}
		if c := clamp(t.Capacity, t.Min, t.Max); c != t.Capacity {
			scaleTo = c
		}
		arn = t.ARN
		return putJSON(tx, sc.targetKey(id), &t)
	})
	if err != nil {
		return nil, err
	}
	if scaleTo >= 0 {
		// AWS brings a capacity outside new bounds inside them at once.
		cause := "minimum capacity was set to " + itoa(t.Min)
		if scaleTo < t.Capacity {
			cause = "maximum capacity was set to " + itoa(t.Max)
		}
		s.scale(ctx, sc, id, decision{to: scaleTo, cause: cause, direct: true})
	}
	return &aas.RegisterScalableTargetOutput{ScalableTargetARN: awsapi.String(arn)}, nil
}

// DescribeScalableTargets lists the namespace's targets, optionally only the
// given resource ids and dimension, 50 to a page.
func (s *Service) DescribeScalableTargets(ctx context.Context, in *aas.DescribeScalableTargetsInput) (*aas.DescribeScalableTargetsOutput, error) {
	ns, err := checkNamespace(in.ServiceNamespace)
	if err != nil {
		return nil, err
	}
	limit, start, err := paging(in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	prefix := append(sc.prefix("t"), ns+"\x00"...)
	out := &aas.DescribeScalableTargetsOutput{ScalableTargets: []aas.ScalableTarget{}}
	err = s.st.View(func(tx store.Tx) error {
		return tx.Scan(prefix, start, func(k, v []byte) (bool, error) {
			var t target
			if err := jsonDecode(v, &t); err != nil {
				return false, err
			}
			if len(in.ResourceIds) > 0 && !slices.Contains(in.ResourceIds, t.ID.ResourceID) {
				return true, nil
			}
			if in.ScalableDimension != nil && *in.ScalableDimension != t.ID.Dimension {
				return true, nil
			}
			if len(out.ScalableTargets) == limit {
				out.NextToken = token(k)
				return false, nil
			}
			out.ScalableTargets = append(out.ScalableTargets, t.api())
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeregisterScalableTarget removes a target with its policies (and their
// alarms) and scheduled actions. Its activities stay, as AWS keeps them.
func (s *Service) DeregisterScalableTarget(ctx context.Context, in *aas.DeregisterScalableTargetInput) (*aas.DeregisterScalableTargetOutput, error) {
	n, err := checkNamespace(in.ServiceNamespace)
	if err != nil {
		return nil, err
	}
	id := targetID{n, awsapi.ToString(in.ResourceId), awsapi.ToString(in.ScalableDimension)}
	sc := scopeOf(ctx)
	var alarmNames []string
	err = s.st.Update(func(tx store.Tx) error {
		b, err := tx.Get(sc.targetKey(id))
		if err != nil {
			return err
		}
		if b == nil {
			return notFound("No scalable target found for service namespace: %s, resource ID: %s, scalable dimension: %s", id.Namespace, id.ResourceID, id.Dimension)
		}
		var keys [][]byte
		for _, kind := range []string{"p", "s"} {
			err := tx.Scan(sc.childPrefix(kind, id), nil, func(k, v []byte) (bool, error) {
				keys = append(keys, slices.Clone(k))
				if kind == "p" {
					var p policy
					if err := jsonDecode(v, &p); err != nil {
						return false, err
					}
					alarmNames = append(alarmNames, p.AlarmNames...)
				}
				return true, nil
			})
			if err != nil {
				return err
			}
		}
		for _, k := range keys {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		return tx.Delete(sc.targetKey(id))
	})
	if err != nil {
		return nil, err
	}
	s.deleteAlarms(ctx, sc, alarmNames)
	return &aas.DeregisterScalableTargetOutput{}, nil
}

func (s *Service) loadTarget(sc scope, id targetID) (*target, error) {
	var t target
	var found bool
	err := s.st.View(func(tx store.Tx) error {
		var err error
		found, err = getJSON(tx, sc.targetKey(id), &t)
		return err
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, noTarget(id)
	}
	return &t, nil
}

// paging reads MaxResults (1 to 50, default 50) and a NextToken, which is the
// base64 of the store key to resume at.
func paging(max *int32, next *string) (int, []byte, error) {
	limit := 50
	if max != nil {
		if *max < 1 || *max > 50 {
			return 0, nil, apierr.Validation("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50 and greater than or equal to 1", *max)
		}
		limit = int(*max)
	}
	if next == nil || *next == "" {
		return limit, nil, nil
	}
	k, err := base64.RawURLEncoding.DecodeString(*next)
	if err != nil || !strings.HasPrefix(string(k), "aas/") {
		return 0, nil, aas.ErrInvalidNextTokenException("Invalid token")
	}
	return limit, k, nil
}

func token(k []byte) *string { return awsapi.String(base64.RawURLEncoding.EncodeToString(k)) }

// checkTags applies the limits of TagResource: keys 1 to 128 characters,
// values up to 256, at most 50 tags, no aws: prefix.
func checkTags(tags map[string]string) error {
	if len(tags) > 50 {
		return aas.ErrTooManyTagsException("The number of tags exceeds the limit of 50 tags.")
	}
	for k, v := range tags {
		if len(k) < 1 || len(k) > 128 || len(v) > 256 {
			return apierr.Validation("Tag keys must be 1 to 128 characters and values at most 256 characters")
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return apierr.Validation("Tag keys cannot start with the aws: prefix")
		}
	}
	return nil
}

// findByARN finds the scalable target with arn, the only taggable resource.
func (s *Service) findByARN(tx store.Tx, sc scope, arn string) (*target, error) {
	var found *target
	err := tx.Scan(sc.prefix("t"), nil, func(k, v []byte) (bool, error) {
		var t target
		if err := jsonDecode(v, &t); err != nil {
			return false, err
		}
		if t.ARN == arn {
			found = &t
			return false, nil
		}
		return true, nil
	})
	if err == nil && found == nil {
		err = &apierr.Error{Code: "ResourceNotFoundException", Status: 400,
			Message: "No scalable target found for ARN " + arn, Fields: map[string]any{"ResourceName": arn}}
	}
	return found, err
}

// TagResource adds tags to a scalable target.
func (s *Service) TagResource(ctx context.Context, in *aas.TagResourceInput) (*aas.TagResourceOutput, error) {
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	err := s.st.Update(func(tx store.Tx) error {
		t, err := s.findByARN(tx, sc, awsapi.ToString(in.ResourceARN))
		if err != nil {
			return err
		}
		if t.Tags == nil {
			t.Tags = map[string]string{}
		}
		for k, v := range in.Tags {
			t.Tags[k] = v
		}
		if len(t.Tags) > 50 {
			return aas.ErrTooManyTagsException("The number of tags exceeds the limit of 50 tags.")
		}
		return putJSON(tx, sc.targetKey(t.ID), t)
	})
	if err != nil {
		return nil, err
	}
	return &aas.TagResourceOutput{}, nil
}

// UntagResource removes tags from a scalable target.
func (s *Service) UntagResource(ctx context.Context, in *aas.UntagResourceInput) (*aas.UntagResourceOutput, error) {
	sc := scopeOf(ctx)
	err := s.st.Update(func(tx store.Tx) error {
		t, err := s.findByARN(tx, sc, awsapi.ToString(in.ResourceARN))
		if err != nil {
			return err
		}
		for _, k := range in.TagKeys {
			delete(t.Tags, k)
		}
		return putJSON(tx, sc.targetKey(t.ID), t)
	})
	if err != nil {
		return nil, err
	}
	return &aas.UntagResourceOutput{}, nil
}

// ListTagsForResource returns a scalable target's tags.
func (s *Service) ListTagsForResource(ctx context.Context, in *aas.ListTagsForResourceInput) (*aas.ListTagsForResourceOutput, error) {
	sc := scopeOf(ctx)
	out := &aas.ListTagsForResourceOutput{Tags: map[string]string{}}
	err := s.st.View(func(tx store.Tx) error {
		t, err := s.findByARN(tx, sc, awsapi.ToString(in.ResourceARN))
		if err != nil {
			return err
		}
		for k, v := range t.Tags {
			out.Tags[k] = v
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
