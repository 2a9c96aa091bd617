package s3

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
	"github.com/wharf-dev/wharf/internal/eventbus"
)

// notificationEvents are the event types a queue or topic configuration may
// name ("Supported event types for SQS, SNS, and Lambda" in the S3 user guide).
var notificationEvents = map[string]bool{
	"s3:ObjectCreated:*": true, "s3:ObjectCreated:Put": true, "s3:ObjectCreated:Post": true,
	"s3:ObjectCreated:Copy": true, "s3:ObjectCreated:CompleteMultipartUpload": true,
	"s3:ObjectRemoved:*": true, "s3:ObjectRemoved:Delete": true, "s3:ObjectRemoved:DeleteMarkerCreated": true,
	"s3:ObjectRestore:*": true, "s3:ObjectRestore:Post": true, "s3:ObjectRestore:Completed": true, "s3:ObjectRestore:Delete": true,
	"s3:ReducedRedundancyLostObject": true,
	"s3:Replication:*":               true, "s3:Replication:OperationFailedReplication": true, "s3:Replication:OperationNotTracked": true,
	"s3:Replication:OperationMissedThreshold": true, "s3:Replication:OperationReplicatedAfterThreshold": true,
	"s3:LifecycleExpiration:*": true, "s3:LifecycleExpiration:Delete": true, "s3:LifecycleExpiration:DeleteMarkerCreated": true,
	"s3:LifecycleTransition": true, "s3:IntelligentTiering": true,
	"s3:ObjectTagging:*": true, "s3:ObjectTagging:Put": true, "s3:ObjectTagging:Delete": true,
	"s3:ObjectAcl:Put": true,
}

func validNotificationTarget(events []string, f *s3api.NotificationConfigurationFilter) error {
	if len(events) == 0 {
		return malformedXML()
	}
	for _, e := range events {
		if !notificationEvents[e] {
			return invalidArgument("The event is not supported for notifications", e, e)
		}
	}
	if f == nil || f.Key == nil {
		return nil
	}
	seen := map[string]bool{}
	for _, r := range f.Key.FilterRules {
		n := strings.ToLower(awsapi.ToString(r.Name))
		if n != "prefix" && n != "suffix" {
			return invalidArgument("filter rule name must be either prefix or suffix", "FilterRule", awsapi.ToString(r.Name))
		}
		if seen[n] {
			return invalidArgument("Cannot specify more than one "+n+" rule in a filter.", "FilterRule", awsapi.ToString(r.Name))
		}
		seen[n] = true
	}
	return nil
}

// PutBucketNotificationConfiguration replaces the bucket's notification
// configuration and, as S3 does, sends an s3:TestEvent to each queue and topic.
func (s *Service) PutBucketNotificationConfiguration(ctx context.Context, in *s3api.PutBucketNotificationConfigurationInput) (*s3api.PutBucketNotificationConfigurationOutput, error) {
	c := in.NotificationConfiguration
	if c == nil {
		c = &s3api.NotificationConfiguration{}
	}
	for _, q := range c.QueueConfigurations {
		if err := validNotificationTarget(q.Events, q.Filter); err != nil {
			return nil, err
		}
		if !strings.HasPrefix(awsapi.ToString(q.QueueArn), "arn:aws:sqs:") {
			return nil, invalidArgument("The ARN is not well formed", "QueueArn", awsapi.ToString(q.QueueArn))
		}
	}
	for _, t := range c.TopicConfigurations {
		if err := validNotificationTarget(t.Events, t.Filter); err != nil {
			return nil, err
		}
		if !strings.HasPrefix(awsapi.ToString(t.TopicArn), "arn:aws:sns:") {
			return nil, invalidArgument("The ARN is not well formed", "TopicArn", awsapi.ToString(t.TopicArn))
		}
	}
	for _, l := range c.LambdaFunctionConfigurations {
		if err := validNotificationTarget(l.Events, l.Filter); err != nil {
			return nil, err
		}
	}
	// Ids are assigned when absent, as S3 does, so records can name them.
	for i := range c.QueueConfigurations {
		if c.QueueConfigurations[i].Id == nil {
			c.QueueConfigurations[i].Id = awsapi.String(s.randomHex(16))
		}
	}
	for i := range c.TopicConfigurations {
		if c.TopicConfigurations[i].Id == nil {
			c.TopicConfigurations[i].Id = awsapi.String(s.randomHex(16))
		}
	}
	for i := range c.LambdaFunctionConfigurations {
		if c.LambdaFunctionConfigurations[i].Id == nil {
			c.LambdaFunctionConfigurations[i].Id = awsapi.String(s.randomHex(16))
		}
	}
	var b *bucket
	err := s.updateBucket(ctx, awsapi.ToString(in.Bucket), func(bk *bucket) error {
		bk.Notification = c
		b = bk
		return nil
	})
	if err != nil {
		return nil, err
	}
	if s.notifier != nil {
		test := s.testEvent(ctx, b.Name)
		dctx := awsapi.WithSource(context.WithoutCancel(ctx), awsapi.Source{ARN: bucketARN(b.Name), Account: b.Account})
		for _, q := range c.QueueConfigurations {
			if err := s.notifier.SendToQueue(dctx, *q.QueueArn, test); err != nil && !awsapi.ToBool(in.SkipDestinationValidation) {
				s.log.Warn("s3: test event not delivered", "queue", *q.QueueArn, "err", err)
			}
		}
		for _, t := range c.TopicConfigurations {
			if err := s.notifier.PublishToTopic(dctx, *t.TopicArn, "Amazon S3 Notification", test); err != nil {
				s.log.Warn("s3: test event not delivered", "topic", *t.TopicArn, "err", err)
			}
		}
	}
	return &s3api.PutBucketNotificationConfigurationOutput{}, nil
}

// GetBucketNotificationConfiguration returns the stored configuration (empty
// when none was set).
func (s *Service) GetBucketNotificationConfiguration(ctx context.Context, in *s3api.GetBucketNotificationConfigurationInput) (*s3api.GetBucketNotificationConfigurationOutput, error) {
	b, err := s.viewBucket(ctx, awsapi.ToString(in.Bucket))
	if err != nil {
		return nil, err
	}
	if b.Notification == nil {
		return &s3api.NotificationConfiguration{}, nil
	}
	return b.Notification, nil
}

func (s *Service) testEvent(ctx context.Context, bucket string) string {
	rid := caller(ctx).RequestID
	v, _ := json.Marshal(map[string]string{
		"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": s.now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"Bucket": bucket, "RequestId": rid, "HostId": rid,
	})
	return string(v)
}

// change is one object change to announce.
type change struct {
	eventName    string // "ObjectCreated:Put", as the record's eventName
	detailType   string // "Object Created" / "Object Deleted"
	reason       string // the API: "PutObject", "CopyObject", ...
	deletionType string // for Object Deleted
	obj          *object
	seq          uint64 // orders the changes of a key: the event's sequencer
}

func (s *Service) objectCreated(ctx context.Context, b *bucket, o *object, reason, eventName string) {
	s.announce(ctx, b, change{eventName: eventName, detailType: "Object Created", reason: reason, obj: o, seq: o.Seq})
}

func (s *Service) objectDeleted(ctx context.Context, b *bucket, d deletion, reason string) {
	if d.removed == nil {
		return
	}
	c := change{detailType: "Object Deleted", reason: reason, obj: d.removed, seq: d.seq,
		eventName: "ObjectRemoved:Delete", deletionType: "Permanently Deleted"}
	if d.markerCreated {
		c.eventName, c.deletionType = "ObjectRemoved:DeleteMarkerCreated", "Delete Marker Created"
	}
	s.announce(ctx, b, c)
}

// announce sends a change to EventBridge (when the bucket enables it) and to
// the matching queue and topic configurations. Delivery follows the commit,
// so a crash between the two loses the event; S3 itself promises at least
// once, which a later version can give by keeping an outbox in the store.
func (s *Service) announce(ctx context.Context, b *bucket, c change) {
	n := b.Notification
	if n == nil {
		return
	}
	dctx := context.WithoutCancel(ctx)
	cl := caller(ctx)
	seq := fmt.Sprintf("%016X", c.seq)
	now := s.now().UTC()
	dctx = s.changed(dctx, b, c, cl.RequestID, seq)
	if n.EventBridgeConfiguration != nil && s.bus != nil {
		obj := map[string]any{"key": c.obj.Key, "sequencer": seq}
		if c.detailType == "Object Created" {
			obj["size"] = c.obj.Size
		}
		if c.obj.ETag != "" {
			obj["etag"] = strings.Trim(c.obj.ETag, `"`)
		}
		if b.versioned() {
			obj["version-id"] = c.obj.VersionID
		}
		detail := map[string]any{
			"version": "0", "bucket": map[string]string{"name": b.Name}, "object": obj,
			"request-id": cl.RequestID, "requester": cl.Account, "source-ip-address": "127.0.0.1", "reason": c.reason,
		}
		if c.deletionType != "" {
			detail["deletion-type"] = c.deletionType
		}
		raw, _ := json.Marshal(detail)
		e := eventbus.Event{Source: "aws.s3", DetailType: c.detailType, Detail: raw, Resources: []string{bucketARN(b.Name)},
			Account: b.Account, Region: b.Region, Time: now}
		if err := s.bus.Publish(dctx, e); err != nil {
			s.log.Warn("s3: event not delivered to EventBridge", "bucket", b.Name, "err", err)
		}
	}
	if s.notifier == nil {
		return
	}
	// S3 notifies as s3.amazonaws.com for the bucket: the queue's or topic's
	// policy must let it in (aws:SourceArn, aws:SourceAccount).
	dctx = awsapi.WithSource(dctx, awsapi.Source{ARN: bucketARN(b.Name), Account: b.Account})
	for _, q := range n.QueueConfigurations {
		if matchesConfig(q.Events, q.Filter, c) {
			if err := s.notifier.SendToQueue(dctx, awsapi.ToString(q.QueueArn), s.record(ctx, b, c, awsapi.ToString(q.Id), now)); err != nil {
				s.log.Warn("s3: notification not delivered", "queue", awsapi.ToString(q.QueueArn), "err", err)
			}
		}
	}
	for _, t := range n.TopicConfigurations {
		if matchesConfig(t.Events, t.Filter, c) {
			if err := s.notifier.PublishToTopic(dctx, awsapi.ToString(t.TopicArn), "Amazon S3 Notification", s.record(ctx, b, c, awsapi.ToString(t.Id), now)); err != nil {
				s.log.Warn("s3: notification not delivered", "topic", awsapi.ToString(t.TopicArn), "err", err)
			}
		}
	}
}

// matchesConfig reports whether a configuration's events and key filter
// select change c. "s3:ObjectCreated:*" selects every ObjectCreated event.
func matchesConfig(events []string, f *s3api.NotificationConfigurationFilter, c change) bool {
	name := "s3:" + c.eventName
	ok := false
	for _, e := range events {
		if e == name || strings.HasSuffix(e, ":*") && strings.HasPrefix(name, strings.TrimSuffix(e, "*")) {
			ok = true
			break
		}
	}
	if !ok {
		return false
	}
	if f == nil || f.Key == nil {
		return true
	}
	for _, r := range f.Key.FilterRules {
		v := awsapi.ToString(r.Value)
		switch strings.ToLower(awsapi.ToString(r.Name)) {
		case "prefix":
			if !strings.HasPrefix(c.obj.Key, v) {
				return false
			}
		case "suffix":
			if !strings.HasSuffix(c.obj.Key, v) {
				return false
			}
		}
	}
	return true
}

// record is S3's own notification message ("Event message structure" in
// the S3 user guide), as SQS and SNS receive it.
func (s *Service) record(ctx context.Context, b *bucket, c change, configID string, now time.Time) string {
	cl := caller(ctx)
	obj := map[string]any{"key": urlEncode(true, c.obj.Key), "sequencer": fmt.Sprintf("%016X", c.seq)}
	if c.detailType == "Object Created" {
		obj["size"] = c.obj.Size
		obj["eTag"] = strings.Trim(c.obj.ETag, `"`)
	}
	if b.versioned() {
		obj["versionId"] = c.obj.VersionID
	}
	principal := "AWS:" + cl.Account
	rec := map[string]any{
		"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": b.Region,
		"eventTime":         now.Format("2006-01-02T15:04:05.000Z"),
		"eventName":         c.eventName,
		"userIdentity":      map[string]string{"principalId": principal},
		"requestParameters": map[string]string{"sourceIPAddress": "127.0.0.1"},
		"responseElements":  map[string]string{"x-amz-request-id": cl.RequestID, "x-amz-id-2": cl.RequestID},
		"s3": map[string]any{
			"s3SchemaVersion": "1.0", "configurationId": configID,
			"bucket": map[string]any{"name": b.Name, "ownerIdentity": map[string]string{"principalId": b.Account}, "arn": bucketARN(b.Name)},
			"object": obj,
		},
	}
	v, _ := json.Marshal(map[string]any{"Records": []any{rec}})
	return string(v)
}
