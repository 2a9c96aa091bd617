package autoscaling

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	aas "github.com/wharf-dev/wharf/internal/awsapi/applicationautoscaling"
	cwapi "github.com/wharf-dev/wharf/internal/awsapi/cloudwatch"
	"github.com/wharf-dev/wharf/internal/store"
)

// policy is a stored scaling policy. The configurations are kept as the
// generated API types, which is what Describe returns.
type policy struct {
	Name     string                                        `json:"name"`
	ARN      string                                        `json:"arn"`
	Type     string                                        `json:"type"`
	Target   targetID                                      `json:"target"`
	Step     *aas.StepScalingPolicyConfiguration           `json:"step,omitempty"`
	Tracking *aas.TargetTrackingScalingPolicyConfiguration `json:"tracking,omitempty"`
	Created  time.Time                                     `json:"created"`
	// High and Low name the target tracking alarms (Low is empty when scale-in
	// is disabled); AlarmNames are those CloudWatch holds.
	High       string   `json:"high,omitempty"`
	Low        string   `json:"low,omitempty"`
	AlarmNames []string `json:"alarms,omitempty"`
}

func (p *policy) cooldowns() (out, in int32) {
	if p.Tracking != nil {
		return trackingCooldowns(p.Tracking)
	}
	if p.Step != nil {
		return stepCooldowns(p.Step)
	}
	return defaultCooldown, defaultCooldown
}

func alarmARN(sc scope, name string) string {
	return "arn:aws:cloudwatch:" + sc.region + ":" + sc.account + ":alarm:" + name
}

func (p *policy) api(sc scope) aas.ScalingPolicy {
	out := aas.ScalingPolicy{
		PolicyARN:         awsapi.String(p.ARN),
		PolicyName:        awsapi.String(p.Name),
		ServiceNamespace:  awsapi.String(p.Target.Namespace),
		ResourceId:        awsapi.String(p.Target.ResourceID),
		ScalableDimension: awsapi.String(p.Target.Dimension),
		PolicyType:        awsapi.String(p.Type),
		CreationTime:      &p.Created,
		Alarms:            []aas.Alarm{},
	}
	out.StepScalingPolicyConfiguration = p.Step
	out.TargetTrackingScalingPolicyConfiguration = p.Tracking
	for _, n := range p.AlarmNames {
		out.Alarms = append(out.Alarms, aas.Alarm{AlarmName: awsapi.String(n), AlarmARN: awsapi.String(alarmARN(sc, n))})
	}
	return out
}

var policyTypes = []string{"PredictiveScaling", "StepScaling", "TargetTrackingScaling"}

// PutScalingPolicy creates or replaces a policy of a registered target. A
// target tracking policy gets the two CloudWatch alarms AWS creates for it.
func (s *Service) PutScalingPolicy(ctx context.Context, in *aas.PutScalingPolicyInput) (*aas.PutScalingPolicyOutput, error) {
	id, err := checkTarget(in.ServiceNamespace, in.ResourceId, in.ScalableDimension)
	if err != nil {
		return nil, err
	}
	name := awsapi.ToString(in.PolicyName)
	if name == "" || len(name) > 256 {
		return nil, apierr.Validation("1 validation error detected: Value at 'policyName' failed to satisfy constraint: Member must have length between 1 and 256")
	}
	typ := awsapi.ToString(in.PolicyType)
	if typ == "" {
		typ = "StepScaling"
	}
	if !slices.Contains(policyTypes, typ) {
		return nil, enumError(typ, "policyType", policyTypes)
	}
	p := policy{Name: name, Type: typ, Target: id}
	switch typ {
	case "PredictiveScaling":
		return nil, apierr.NotImplemented("application-autoscaling", "PutScalingPolicy with PolicyType PredictiveScaling")
	case "StepScaling":
		if in.StepScalingPolicyConfiguration == nil {
			return nil, apierr.Validation("StepScalingPolicyConfiguration is required for a StepScaling policy")
		}
		if err := checkStepConfig(in.StepScalingPolicyConfiguration); err != nil {
			return nil, err
		}
		p.Step = in.StepScalingPolicyConfiguration
	case "TargetTrackingScaling":
		if in.TargetTrackingScalingPolicyConfiguration == nil {
			return nil, apierr.Validation("TargetTrackingScalingPolicyConfiguration is required for a TargetTrackingScaling policy")
		}
		if err := checkTrackingConfig(id.Namespace, in.TargetTrackingScalingPolicyConfiguration); err != nil {
			return nil, err
		}
		p.Tracking = in.TargetTrackingScalingPolicyConfiguration
	}
	sc := scopeOf(ctx)
	var old policy
	var existed bool
	err = s.st.Update(func(tx store.Tx) error {
		if b, err := tx.Get(sc.targetKey(id)); err != nil {
			return err
		} else if b == nil {
			return noTarget(id)
		}
		var err error
		existed, err = getJSON(tx, sc.childKey("p", id, name), &old)
		if err != nil {
			return err
		}
		if existed {
			p.ARN, p.Created, p.High, p.Low = old.ARN, old.Created, old.High, old.Low
		} else {
			p.ARN = fmt.Sprintf("arn:aws:autoscaling:%s:%s:scalingPolicy:%s:resource/%s/%s:policyName/%s",
				sc.region, sc.account, s.uuid(), id.Namespace, id.ResourceID, name)
			p.Created = s.clock.Now()
		}
		if p.Tracking != nil {
			prefix := "TargetTracking-" + id.ResourceID
			if p.High == "" {
				p.High = prefix + "-AlarmHigh-" + s.uuid()
			}
			disableIn := p.Tracking.DisableScaleIn != nil && *p.Tracking.DisableScaleIn
			switch {
			case disableIn:
				// AWS creates no low alarm when scale-in is disabled.
				p.Low = ""
			case p.Low == "":
				p.Low = prefix + "-AlarmLow-" + s.uuid()
			}
		} else {
			p.High, p.Low = "", ""
		}
		return putJSON(tx, sc.childKey("p", id, name), &p)
	})
	if err != nil {
		return nil, err
	}
	// Alarms the new version no longer has go; the others are (re)written.
	var stale []string
	for _, n := range old.AlarmNames {
		if n != p.High && n != p.Low {
			stale = append(stale, n)
		}
	}
	s.deleteAlarms(ctx, sc, stale)
	if p.Tracking != nil {
		names, err := s.putTrackingAlarms(ctx, sc, &p)
		if err != nil {
			return nil, err
		}
		p.AlarmNames = names
		if err := s.st.Update(func(tx store.Tx) error {
			var cur policy
			if ok, err := getJSON(tx, sc.childKey("p", id, name), &cur); err != nil || !ok || cur.ARN != p.ARN {
				return err // deleted meanwhile: nothing to record
			}
			return putJSON(tx, sc.childKey("p", id, name), &p)
		}); err != nil {
			return nil, err
		}
	}
	out := &aas.PutScalingPolicyOutput{PolicyARN: awsapi.String(p.ARN)}
	for _, n := range p.AlarmNames {
		out.Alarms = append(out.Alarms, aas.Alarm{AlarmName: awsapi.String(n), AlarmARN: awsapi.String(alarmARN(sc, n))})
	}
	return out, nil
}

var adjustmentTypes = []string{"ChangeInCapacity", "PercentChangeInCapacity", "ExactCapacity"}
var aggregationTypes = []string{"Average", "Minimum", "Maximum"}

func checkStepConfig(c *aas.StepScalingPolicyConfiguration) error {
	if c.AdjustmentType == nil {
		return apierr.Validation("AdjustmentType is required for a StepScaling policy")
	}
	if !slices.Contains(adjustmentTypes, *c.AdjustmentType) {
		return enumError(*c.AdjustmentType, "stepScalingPolicyConfiguration.adjustmentType", adjustmentTypes)
	}
	if c.MetricAggregationType != nil && !slices.Contains(aggregationTypes, *c.MetricAggregationType) {
		return enumError(*c.MetricAggregationType, "stepScalingPolicyConfiguration.metricAggregationType", aggregationTypes)
	}
	if c.MinAdjustmentMagnitude != nil && *c.AdjustmentType != "PercentChangeInCapacity" {
		return apierr.Validation("MinAdjustmentMagnitude is only supported with the PercentChangeInCapacity adjustment type")
	}
	if c.MinAdjustmentMagnitude != nil && *c.MinAdjustmentMagnitude < 0 || c.Cooldown != nil && *c.Cooldown < 0 {
		return apierr.Validation("MinAdjustmentMagnitude and Cooldown must not be negative")
	}
	if msg := checkSteps(c.StepAdjustments); msg != "" {
		return apierr.Validation("%s", msg)
	}
	return nil
}

// ecsMetricTypes are the predefined metrics of ECS services.
var ecsMetricTypes = []string{"ECSServiceAverageCPUUtilization", "ECSServiceAverageMemoryUtilization", "ALBRequestCountPerTarget"}

// dynamoMetricTypes are the predefined metrics of DynamoDB tables and indexes.
var dynamoMetricTypes = []string{"DynamoDBReadCapacityUtilization", "DynamoDBWriteCapacityUtilization"}

func checkTrackingConfig(namespace string, c *aas.TargetTrackingScalingPolicyConfiguration) error {
	if c.TargetValue == nil {
		return apierr.Validation("1 validation error detected: Value null at 'targetTrackingScalingPolicyConfiguration.targetValue' failed to satisfy constraint: Member must not be null")
	}
	if v := *c.TargetValue; !(v >= 8.515920e-109 && v <= 6.174320e+109) {
		return apierr.Validation("The target value must be between 8.515920e-109 and 6.174320e+109")
	}
	if c.ScaleInCooldown != nil && *c.ScaleInCooldown < 0 || c.ScaleOutCooldown != nil && *c.ScaleOutCooldown < 0 {
		return apierr.Validation("Cooldown values must not be negative")
	}
	pre, cust := c.PredefinedMetricSpecification, c.CustomizedMetricSpecification
	if (pre == nil) == (cust == nil) {
		return apierr.Validation("Exactly one of PredefinedMetricSpecification and CustomizedMetricSpecification must be specified")
	}
	if pre != nil {
		mt := awsapi.ToString(pre.PredefinedMetricType)
		if namespace == "dynamodb" && slices.Contains(dynamoMetricTypes, mt) {
			return nil // AWS/DynamoDB Consumed{Read,Write}CapacityUnits, which DynamoDB publishes
		}
		if namespace != namespaceECS || !slices.Contains(ecsMetricTypes, mt) {
			return apierr.Validation("Unsupported metric type %s for service namespace %s", mt, namespace)
		}
		if mt == "ALBRequestCountPerTarget" && awsapi.ToString(pre.ResourceLabel) == "" {
			return apierr.Validation("ResourceLabel is required for the predefined metric type ALBRequestCountPerTarget")
		}
		return nil
	}
	if len(cust.Metrics) > 0 {
		if cust.MetricName != nil || cust.Namespace != nil || cust.Statistic != nil || len(cust.Dimensions) > 0 {
			return apierr.Validation("Metrics cannot be specified together with MetricName, Namespace, Dimensions or Statistic")
		}
		returning := 0
		for _, q := range cust.Metrics {
			if awsapi.ToString(q.Id) == "" {
				return apierr.Validation("Each metric data query must have an Id")
			}
			if (q.Expression == nil) == (q.MetricStat == nil) {
				return apierr.Validation("Exactly one of Expression and MetricStat must be specified for metric data query %s", *q.Id)
			}
			if q.MetricStat != nil && (q.MetricStat.Metric == nil || awsapi.ToString(q.MetricStat.Stat) == "") {
				return apierr.Validation("MetricStat of metric data query %s must have a Metric and a Stat", *q.Id)
			}
			if q.ReturnData == nil || *q.ReturnData {
				returning++
			}
		}
		if returning != 1 {
			return apierr.Validation("Exactly one metric data query must have ReturnData set to true")
		}
		return nil
	}
	if awsapi.ToString(cust.MetricName) == "" || awsapi.ToString(cust.Namespace) == "" || awsapi.ToString(cust.Statistic) == "" {
		return apierr.Validation("CustomizedMetricSpecification requires MetricName, Namespace and Statistic, or Metrics")
	}
	stats := []string{"Average", "Minimum", "Maximum", "SampleCount", "Sum"}
	if !slices.Contains(stats, *cust.Statistic) {
		return enumError(*cust.Statistic, "targetTrackingScalingPolicyConfiguration.customizedMetricSpecification.statistic", stats)
	}
	return nil
}

// metricQueries is the policy's metric as GetMetricData queries, each metric at
// period seconds. The query whose data counts is returned as its id.
func metricQueries(p *policy, period int32) ([]cwapi.MetricDataQuery, string) {
	c := p.Tracking
	cluster, service, _ := ecsService(p.Target.ResourceID)
	stat := func(ns, name, stat string, unit *string, dims []cwapi.Dimension) []cwapi.MetricDataQuery {
		return []cwapi.MetricDataQuery{{Id: awsapi.String("m1"), ReturnData: awsapi.Bool(true),
			MetricStat: &cwapi.MetricStat{Metric: &cwapi.Metric{Namespace: awsapi.String(ns), MetricName: awsapi.String(name), Dimensions: dims},
				Period: awsapi.Int32(period), Stat: awsapi.String(stat), Unit: unit}}}
	}
	if pre := c.PredefinedMetricSpecification; pre != nil && isDynamoUtilization(p) {
		table, index, _ := dynamoTarget(p.Target)
		dims := []cwapi.Dimension{{Name: awsapi.String("TableName"), Value: awsapi.String(table)}}
		if index != "" {
			dims = append(dims, cwapi.Dimension{Name: awsapi.String("GlobalSecondaryIndexName"), Value: awsapi.String(index)})
		}
		name := "ConsumedReadCapacityUnits"
		if *pre.PredefinedMetricType == "DynamoDBWriteCapacityUtilization" {
			name = "ConsumedWriteCapacityUnits"
		}
		return stat("AWS/DynamoDB", name, "Sum", nil, dims), "m1"
	}
	if pre := c.PredefinedMetricSpecification; pre != nil {
		svcDims := []cwapi.Dimension{{Name: awsapi.String("ClusterName"), Value: awsapi.String(cluster)}, {Name: awsapi.String("ServiceName"), Value: awsapi.String(service)}}
		switch *pre.PredefinedMetricType {
		case "ECSServiceAverageMemoryUtilization":
			return stat("AWS/ECS", "MemoryUtilization", "Average", nil, svcDims), "m1"
		case "ALBRequestCountPerTarget":
			// ResourceLabel is app/<lb>/<id>/targetgroup/<tg>/<id>.
			label := awsapi.ToString(pre.ResourceLabel)
			tg := label
			if i := strings.Index(label, "/targetgroup/"); i >= 0 {
				tg = label[i+1:]
			}
			return stat("AWS/ApplicationELB", "RequestCountPerTarget", "Sum", nil,
				[]cwapi.Dimension{{Name: awsapi.String("TargetGroup"), Value: awsapi.String(tg)}}), "m1"
		default:
			return stat("AWS/ECS", "CPUUtilization", "Average", nil, svcDims), "m1"
		}
	}
	cust := c.CustomizedMetricSpecification
	if len(cust.Metrics) == 0 {
		var dims []cwapi.Dimension
		for _, d := range cust.Dimensions {
			dims = append(dims, cwapi.Dimension{Name: d.Name, Value: d.Value})
		}
		return stat(*cust.Namespace, *cust.MetricName, *cust.Statistic, cust.Unit, dims), "m1"
	}
	var qs []cwapi.MetricDataQuery
	var ret string
	for _, q := range cust.Metrics {
		cq := cwapi.MetricDataQuery{Id: q.Id, Expression: q.Expression, Label: q.Label, ReturnData: awsapi.Bool(q.ReturnData == nil || *q.ReturnData)}
		if *cq.ReturnData {
			ret = *q.Id
		}
		if ms := q.MetricStat; ms != nil {
			m := &cwapi.Metric{Namespace: ms.Metric.Namespace, MetricName: ms.Metric.MetricName}
			for _, d := range ms.Metric.Dimensions {
				m.Dimensions = append(m.Dimensions, cwapi.Dimension{Name: d.Name, Value: d.Value})
			}
			cq.MetricStat = &cwapi.MetricStat{Metric: m, Period: awsapi.Int32(period), Stat: ms.Stat, Unit: ms.Unit}
		}
		qs = append(qs, cq)
	}
	return qs, ret
}

// isDynamoUtilization reports whether p tracks a DynamoDB capacity
// utilization: the percentage of the provisioned units consumed, which
// metricQueries reads as the consumed units' Sum and utilization computes.
func isDynamoUtilization(p *policy) bool {
	pre := p.Tracking.PredefinedMetricSpecification
	return pre != nil && slices.Contains(dynamoMetricTypes, awsapi.ToString(pre.PredefinedMetricType))
}

// utilization is the percentage of capacity units per second that sum
// units consumed over period seconds are.
func utilization(sum float64, period time.Duration, capacity int32) float64 {
	if capacity <= 0 || period <= 0 {
		return math.NaN()
	}
	return 100 * sum / period.Seconds() / float64(capacity)
}

// putTrackingAlarms creates the policy's alarms as AWS words them: the high
// alarm fires after 3 of 3 one-minute datapoints above the target, the low
// after 15 of 15 below 90% of it. Without CloudWatch it creates none.
func (s *Service) putTrackingAlarms(ctx context.Context, sc scope, p *policy) ([]string, error) {
	_, alarms, _ := s.deps()
	if alarms == nil {
		return nil, nil
	}
	qs, _ := metricQueries(p, 60)
	tv := *p.Tracking.TargetValue
	if isDynamoUtilization(p) {
		// The alarms watch the consumed units' one-minute Sum, as AWS's
		// do: the target percentage of the capacity provisioned now, for a
		// minute; each scaling moves them (retuneDynamoAlarms).
		n, connected, err := s.readCapacity(ctx, sc, p.Target)
		if err != nil || !connected {
			n = 1
		}
		tv = tv / 100 * float64(n) * 60
	}
	mk := func(name string, evals int32, threshold float64, op string) *cwapi.PutMetricAlarmInput {
		in := &cwapi.PutMetricAlarmInput{
			AlarmName:          awsapi.String(name),
			AlarmDescription:   awsapi.String("DO NOT EDIT OR DELETE. For TargetTrackingScaling policy " + p.ARN + "."),
			ActionsEnabled:     awsapi.Bool(true),
			AlarmActions:       []string{p.ARN},
			EvaluationPeriods:  awsapi.Int32(evals),
			DatapointsToAlarm:  awsapi.Int32(evals),
			Threshold:          f64p(threshold),
			ComparisonOperator: awsapi.String(op),
		}
		if len(qs) == 1 {
			ms := qs[0].MetricStat
			in.Namespace, in.MetricName, in.Dimensions = ms.Metric.Namespace, ms.Metric.MetricName, ms.Metric.Dimensions
			in.Statistic, in.Unit, in.Period = ms.Stat, ms.Unit, awsapi.Int32(60)
		} else {
			in.Metrics = qs
		}
		return in
	}
	ins := []*cwapi.PutMetricAlarmInput{mk(p.High, 3, tv, "GreaterThanThreshold")}
	if p.Low != "" {
		ins = append(ins, mk(p.Low, 15, tv*scaleInRatio, "LessThanThreshold"))
	}
	var names []string
	for _, in := range ins {
		if _, err := alarms.PutMetricAlarm(sc.ctx(ctx), in); err != nil {
			// AWS reports a failure to create the alarms as this exception.
			s.deleteAlarms(ctx, sc, names)
			msg := "Failed to create CloudWatch alarm " + *in.AlarmName
			if e := apierr.As(err); e != nil {
				msg += ": " + e.Message
			}
			return nil, aas.ErrFailedResourceAccessException("%s", msg)
		}
		names = append(names, *in.AlarmName)
	}
	return names, nil
}

func (s *Service) deleteAlarms(ctx context.Context, sc scope, names []string) {
	_, alarms, _ := s.deps()
	if alarms == nil || len(names) == 0 {
		return
	}
	if _, err := alarms.DeleteAlarms(sc.ctx(ctx), &cwapi.DeleteAlarmsInput{AlarmNames: names}); err != nil {
		s.log.Warn("delete target tracking alarms", "alarms", names, "err", err)
	}
}

// DescribeScalingPolicies lists policies of a namespace, optionally of one
// resource, dimension or set of names.
func (s *Service) DescribeScalingPolicies(ctx context.Context, in *aas.DescribeScalingPoliciesInput) (*aas.DescribeScalingPoliciesOutput, error) {
	ns, err := checkNamespace(in.ServiceNamespace)
	if err != nil {
		return nil, err
	}
	limit, start, err := paging(in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	prefix := append(sc.prefix("p"), ns+"\x00"...)
	if in.ResourceId != nil {
		prefix = append(prefix, *in.ResourceId+"\x00"...)
	}
	out := &aas.DescribeScalingPoliciesOutput{ScalingPolicies: []aas.ScalingPolicy{}}
	err = s.st.View(func(tx store.Tx) error {
		return tx.Scan(prefix, start, func(k, v []byte) (bool, error) {
			var p policy
			if err := jsonDecode(v, &p); err != nil {
				return false, err
			}
			if in.ScalableDimension != nil && *in.ScalableDimension != p.Target.Dimension ||
				len(in.PolicyNames) > 0 && !slices.Contains(in.PolicyNames, p.Name) {
				return true, nil
			}
			if len(out.ScalingPolicies) == limit {
				out.NextToken = token(k)
				return false, nil
			}
			out.ScalingPolicies = append(out.ScalingPolicies, p.api(sc))
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteScalingPolicy deletes a policy and the alarms AWS created for it.
func (s *Service) DeleteScalingPolicy(ctx context.Context, in *aas.DeleteScalingPolicyInput) (*aas.DeleteScalingPolicyOutput, error) {
	n, err := checkNamespace(in.ServiceNamespace)
	if err != nil {
		return nil, err
	}
	id := targetID{n, awsapi.ToString(in.ResourceId), awsapi.ToString(in.ScalableDimension)}
	name := awsapi.ToString(in.PolicyName)
	sc := scopeOf(ctx)
	var p policy
	err = s.st.Update(func(tx store.Tx) error {
		found, err := getJSON(tx, sc.childKey("p", id, name), &p)
		if err != nil {
			return err
		}
		if !found {
			return notFound("No scaling policy found for service namespace: %s, resource ID: %s, scalable dimension: %s, policy name: %s",
				id.Namespace, id.ResourceID, id.Dimension, name)
		}
		return tx.Delete(sc.childKey("p", id, name))
	})
	if err != nil {
		return nil, err
	}
	s.deleteAlarms(ctx, sc, p.AlarmNames)
	return &aas.DeleteScalingPolicyOutput{}, nil
}

// findPolicy finds a policy by ARN. The ARN carries the namespace and resource
// id (…:resource/<namespace>/<resource id>:policyName/<name>).
func (s *Service) findPolicy(sc scope, arn string) (*policy, error) {
	_, rest, ok := strings.Cut(arn, ":resource/")
	if !ok {
		return nil, notFound("No scaling policy found for ARN %s", arn)
	}
	res, _, ok := strings.Cut(rest, ":policyName/")
	ns, resourceID, ok2 := strings.Cut(res, "/")
	if !ok || !ok2 {
		return nil, notFound("No scaling policy found for ARN %s", arn)
	}
	var found *policy
	err := s.st.View(func(tx store.Tx) error {
		return tx.Scan(append(sc.prefix("p"), ns+"\x00"+resourceID+"\x00"...), nil, func(k, v []byte) (bool, error) {
			var p policy
			if err := jsonDecode(v, &p); err != nil {
				return false, err
			}
			if p.ARN == arn {
				found = &p
				return false, nil
			}
			return true, nil
		})
	})
	if err == nil && found == nil {
		err = notFound("No scaling policy found for ARN %s", arn)
	}
	return found, err
}

// ExecutePolicy runs the policy policyARN because a CloudWatch alarm that
// names it as an action is in alarmState; value is the datapoint that breached
// threshold. CloudWatch calls it. Only ALARM scales, as on AWS. A step scaling
// policy adjusts by the step whose interval holds value − threshold. A target
// tracking policy re-reads its metric and evaluates as the loop does; only
// when no metric reader is connected does it use value.
func (s *Service) ExecutePolicy(ctx context.Context, account, region, policyARN, alarmName, alarmState string, value, threshold float64) error {
	if alarmState != "ALARM" {
		return nil
	}
	sc := scope{account, region}
	p, err := s.findPolicy(sc, policyARN)
	if err != nil {
		return err
	}
	cause := "monitor alarm " + alarmName + " in state ALARM triggered policy " + p.Name
	if p.Tracking != nil {
		return s.evaluateTracking(ctx, sc, p, &value, cause)
	}
	if p.Step == nil || math.IsNaN(value) {
		return nil
	}
	s.scaleMu.Lock()
	defer s.scaleMu.Unlock()
	t, err := s.loadTarget(sc, p.Target)
	if err != nil {
		return err
	}
	current, err := s.currentCapacity(ctx, sc, t)
	if err != nil {
		return err
	}
	v := stepVerdict(p.Step, t, current, value, threshold, s.clock.Now())
	return s.apply(ctx, sc, p, v, current, cause)
}

// apply carries out a verdict; the caller holds scaleMu.
func (s *Service) apply(ctx context.Context, sc scope, p *policy, v verdict, current int32, cause string) error {
	switch {
	case v.act:
		err := s.scaleLocked(ctx, sc, p.Target, decision{to: v.to, cause: cause, policy: p})
		if err == errNoChange {
			return nil
		}
		return err
	case v.notScaled != "":
		return s.recordNotScaled(sc, p.Target, cause, v.notScaled, current)
	}
	return nil
}

// evaluateTracking reads a target tracking policy's metric and scales to
// track it. fallback is used when no metric reader is connected.
func (s *Service) evaluateTracking(ctx context.Context, sc scope, p *policy, fallback *float64, cause string) error {
	metric, ok, err := s.readMetric(ctx, sc, p)
	if err != nil {
		return err
	}
	if !ok {
		if fallback == nil || math.IsNaN(*fallback) {
			return nil
		}
		metric = *fallback
	}
	s.scaleMu.Lock()
	defer s.scaleMu.Unlock()
	t, err := s.loadTarget(sc, p.Target)
	if err != nil {
		return err
	}
	current, err := s.currentCapacity(ctx, sc, t)
	if err != nil {
		return err
	}
	if isDynamoUtilization(p) && ok {
		// The newest complete period's consumed units, as a percentage of
		// the capacity provisioned now. A fallback value from an alarm is
		// already its one-minute Sum.
		metric = utilization(metric, s.period, current)
	} else if isDynamoUtilization(p) {
		metric = utilization(metric, time.Minute, current)
	}
	if math.IsNaN(metric) {
		return nil
	}
	v := trackingVerdict(p.Tracking, t, current, metric, s.clock.Now())
	if cause == "" {
		alarm := p.High
		if !v.out {
			alarm = p.Low
		}
		if alarm == "" {
			alarm = "TargetTracking-" + p.Target.ResourceID + "-AlarmLow"
		}
		cause = "monitor alarm " + alarm + " in state ALARM triggered policy " + p.Name
	}
	return s.apply(ctx, sc, p, v, current, cause)
}

// readMetric returns the newest datapoint of the policy's metric within the
// lookback window; ok is false when there is none or no reader.
func (s *Service) readMetric(ctx context.Context, sc scope, p *policy) (float64, bool, error) {
	metrics, _, _ := s.deps()
	if metrics == nil {
		return 0, false, nil
	}
	period := int32(s.period / time.Second)
	if period < 1 {
		period = 1
	}
	qs, ret := metricQueries(p, period)
	now := s.clock.Now()
	if isDynamoUtilization(p) {
		// A Sum of the period in progress is short of what it will be:
		// read complete periods only.
		now = now.Truncate(time.Duration(period) * time.Second)
	}
	out, err := metrics.GetMetricData(sc.ctx(ctx), &cwapi.GetMetricDataInput{
		MetricDataQueries: qs,
		StartTime:         timep(now.Add(-s.lookback)),
		EndTime:           timep(now),
		ScanBy:            awsapi.String("TimestampDescending"),
	})
	if err != nil {
		return 0, false, fmt.Errorf("read metric of %s: %w", p.ARN, err)
	}
	for _, r := range out.MetricDataResults {
		if awsapi.ToString(r.Id) != ret {
			continue
		}
		var best time.Time
		var val float64
		found := false
		for i, ts := range r.Timestamps {
			if i < len(r.Values) && !math.IsNaN(r.Values[i]) && (!found || ts.After(best)) {
				best, val, found = ts, r.Values[i], true
			}
		}
		return val, found, nil
	}
	return 0, false, nil
}
