package app

import (
	"context"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	eventsapi "github.com/wharf-dev/wharf/internal/awsapi/events"
	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
	schedapi "github.com/wharf-dev/wharf/internal/awsapi/scheduler"
	snsapi "github.com/wharf-dev/wharf/internal/awsapi/sns"
	"github.com/wharf-dev/wharf/internal/console"
)

// Bucket is one row of the buckets view.
type Bucket struct {
	Name    string     `json:"name"`
	Region  string     `json:"region,omitempty"`
	Created *time.Time `json:"created,omitempty"`
}

// Object is one row of a bucket's objects view.
type Object struct {
	Key          string     `json:"key"`
	Size         int64      `json:"size"`
	ETag         string     `json:"etag"`
	LastModified *time.Time `json:"lastModified,omitempty"`
	StorageClass string     `json:"storageClass,omitempty"`
}

// Bus is one row of the buses view: an event bus, how many rules it has and
// its resource policy (PutPermission's), which decides who else may put
// events on it.
type Bus struct {
	Name        string `json:"name"`
	ARN         string `json:"arn"`
	Description string `json:"description,omitempty"`
	Rules       int    `json:"rules"`
	Policy      string `json:"policy,omitempty"`
}

// Topic is one row of the topics view, with its subscriptions.
type Topic struct {
	Name          string              `json:"name"`
	ARN           string              `json:"arn"`
	Subscriptions []TopicSubscription `json:"subscriptions"`
}

// TopicSubscription is one subscription of a topic.
type TopicSubscription struct {
	ARN      string `json:"arn"` // "PendingConfirmation" until confirmed, as SNS lists it
	Protocol string `json:"protocol"`
	Endpoint string `json:"endpoint"`
}

// Schedule is one row of the schedules view: an EventBridge rule with a
// schedule expression or an EventBridge Scheduler schedule.
type Schedule struct {
	Kind       string   `json:"kind"` // "rule" or "schedule"
	Name       string   `json:"name"`
	ARN        string   `json:"arn,omitempty"`
	Group      string   `json:"group"` // the rule's bus or the schedule's group
	Expression string   `json:"expression"`
	Timezone   string   `json:"timezone,omitempty"`
	State      string   `json:"state"`
	Targets    []string `json:"targets"`
	// Next is when it fires next by wharf's clock (which POST
	// /_wharf/clock moves); absent when it never fires again or is
	// disabled.
	Next *time.Time `json:"next,omitempty"`
}

// maxObjects bounds one objects view.
const maxObjects = 1000

func (r *resources) buckets(ctx context.Context) ([]Bucket, error) {
	bs := []Bucket{}
	if r.sys.S3 == nil {
		return bs, nil
	}
	out, err := r.sys.S3.ListBuckets(ctx, &s3api.ListBucketsInput{})
	if err != nil {
		return nil, err
	}
	for _, b := range out.Buckets {
		bs = append(bs, Bucket{Name: awsapi.ToString(b.Name), Region: awsapi.ToString(b.BucketRegion), Created: b.CreationDate})
	}
	return bs, nil
}

// objects lists up to maxObjects keys of bucket under prefix.
func (r *resources) objects(ctx context.Context, bucket, prefix string) ([]Object, error) {
	if r.sys.S3 == nil {
		return nil, apierr.New("NoSuchBucket", 404, "The specified bucket does not exist")
	}
	if bucket == "" {
		return nil, apierr.New("InvalidParameterValue", 400, "the objects view needs ?bucket=NAME.")
	}
	objs := []Object{}
	in := &s3api.ListObjectsV2Input{Bucket: awsapi.String(bucket), MaxKeys: awsapi.Int32(maxObjects)}
	if prefix != "" {
		in.Prefix = awsapi.String(prefix)
	}
	out, err := r.sys.S3.ListObjectsV2(ctx, in)
	if err != nil {
		return nil, err
	}
	for _, o := range out.Contents {
		objs = append(objs, Object{Key: awsapi.ToString(o.Key), Size: awsapi.ToInt64(o.Size), ETag: awsapi.ToString(o.ETag),
			LastModified: o.LastModified, StorageClass: awsapi.ToString(o.StorageClass)})
	}
	return objs, nil
}

// Object opens an object for the console's download link, through S3's
// GetObject.
func (r *resources) Object(ctx context.Context, bucket, key string, q console.Query) (*console.Download, error) {
	if r.sys.S3 == nil {
		return nil, apierr.New("NoSuchBucket", 404, "The specified bucket does not exist")
	}
	if bucket == "" || key == "" {
		return nil, apierr.New("InvalidParameterValue", 400, "a download needs ?bucket=NAME&key=KEY.")
	}
	out, err := r.sys.S3.GetObject(r.as(ctx, q.Region, q.Host), &s3api.GetObjectInput{Bucket: awsapi.String(bucket), Key: awsapi.String(key)})
	if err != nil {
		return nil, err
	}
	d := &console.Download{Name: key[strings.LastIndex(key, "/")+1:], ContentType: awsapi.ToString(out.ContentType),
		Length: -1, Body: io.NopCloser(out.Body)}
	if c, ok := out.Body.(io.ReadCloser); ok {
		d.Body = c
	}
	if out.ContentLength != nil {
		d.Length = *out.ContentLength
	}
	return d, nil
}

func (r *resources) buses(ctx context.Context) ([]Bus, error) {
	out, err := r.sys.Events.ListEventBuses(ctx, &eventsapi.ListEventBusesInput{Limit: awsapi.Int32(100)})
	if err != nil {
		return nil, err
	}
	bs := []Bus{}
	for _, b := range out.EventBuses {
		bus := Bus{Name: awsapi.ToString(b.Name), ARN: awsapi.ToString(b.Arn), Description: awsapi.ToString(b.Description)}
		// The policy is read where EventBridge documents it: DescribeEventBus.
		if d, err := r.sys.Events.DescribeEventBus(ctx, &eventsapi.DescribeEventBusInput{Name: b.Name}); err == nil {
			bus.Policy = awsapi.ToString(d.Policy)
		}
		in := &eventsapi.ListRulesInput{EventBusName: b.Name, Limit: awsapi.Int32(100)}
		for range maxPages {
			rules, err := r.sys.Events.ListRules(ctx, in)
			if err != nil {
				break // deleted meanwhile
			}
			bus.Rules += len(rules.Rules)
			if rules.NextToken == nil {
				break
			}
			in.NextToken = rules.NextToken
		}
		bs = append(bs, bus)
	}
	return bs, nil
}

func (r *resources) topics(ctx context.Context) ([]Topic, error) {
	ts := []Topic{}
	in := &snsapi.ListTopicsInput{}
	for range maxPages {
		out, err := r.sys.SNS.ListTopics(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, t := range out.Topics {
			arn := awsapi.ToString(t.TopicArn)
			topic := Topic{ARN: arn, Name: arn[strings.LastIndex(arn, ":")+1:], Subscriptions: []TopicSubscription{}}
			sin := &snsapi.ListSubscriptionsByTopicInput{TopicArn: t.TopicArn}
			for range maxPages {
				subs, err := r.sys.SNS.ListSubscriptionsByTopic(ctx, sin)
				if err != nil {
					break // deleted meanwhile
				}
				for _, s := range subs.Subscriptions {
					topic.Subscriptions = append(topic.Subscriptions, TopicSubscription{ARN: awsapi.ToString(s.SubscriptionArn),
						Protocol: awsapi.ToString(s.Protocol), Endpoint: awsapi.ToString(s.Endpoint)})
				}
				if subs.NextToken == nil {
					break
				}
				sin.NextToken = subs.NextToken
			}
			ts = append(ts, topic)
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	return ts, nil
}

// schedules lists the scheduled rules of every bus and the Scheduler's
// schedules of every group, each with its next firing by wharf's clock,
// soonest first.
func (r *resources) schedules(ctx context.Context) ([]Schedule, error) {
	out := []Schedule{}
	rules, err := r.rules(ctx)
	if err != nil {
		return nil, err
	}
	for _, rr := range rules {
		if rr.Schedule == "" {
			continue
		}
		s := Schedule{Kind: "rule", Name: rr.Name, ARN: rr.ARN, Group: rr.Bus, Expression: rr.Schedule, State: rr.State, Targets: []string{}}
		for _, t := range rr.Targets {
			s.Targets = append(s.Targets, t.ARN)
		}
		if rr.Bus == "default" {
			if t, ok := r.sys.Events.NextFiring(ctx, rr.Name); ok {
				s.Next = &t
			}
		}
		out = append(out, s)
	}
	in := &schedapi.ListSchedulesInput{MaxResults: awsapi.Int32(100)}
	for range maxPages {
		list, err := r.sys.Scheduler.ListSchedules(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, sum := range list.Schedules {
			g, err := r.sys.Scheduler.GetSchedule(ctx, &schedapi.GetScheduleInput{Name: sum.Name, GroupName: sum.GroupName})
			if err != nil {
				continue // deleted meanwhile
			}
			s := Schedule{Kind: "schedule", Name: awsapi.ToString(g.Name), ARN: awsapi.ToString(g.Arn), Group: awsapi.ToString(g.GroupName),
				Expression: awsapi.ToString(g.ScheduleExpression), Timezone: awsapi.ToString(g.ScheduleExpressionTimezone),
				State: awsapi.ToString(g.State), Targets: []string{}}
			if g.Target != nil {
				s.Targets = append(s.Targets, awsapi.ToString(g.Target.Arn))
			}
			if t, ok := r.sys.Scheduler.NextFiring(ctx, s.Group, s.Name); ok {
				s.Next = &t
			}
			out = append(out, s)
		}
		if list.NextToken == nil {
			break
		}
		in.NextToken = list.NextToken
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Next, out[j].Next
		switch {
		case a == nil || b == nil:
			return a != nil
		default:
			return a.Before(*b)
		}
	})
	return out, nil
}

// TestPattern reports whether event matches pattern with EventBridge's own
// TestEventPattern: its matcher, its required envelope fields, its errors.
func (r *resources) TestPattern(ctx context.Context, pattern, event string, q console.Query) (bool, error) {
	out, err := r.sys.Events.TestEventPattern(r.as(ctx, q.Region, q.Host),
		&eventsapi.TestEventPatternInput{EventPattern: awsapi.String(pattern), Event: awsapi.String(event)})
	if err != nil {
		return false, err
	}
	return awsapi.ToBool(out.Result), nil
}
