package sns

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/wharf-dev/wharf/internal/service/cloudwatch"
)

// Metrics receives the AWS/SNS metrics. CloudWatch implements it.
type Metrics interface {
	Put(ctx context.Context, account, region, namespace string, data ...cloudwatch.Datum) error
}

// SetMetrics makes the service publish AWS/SNS metrics to m: per TopicName,
// NumberOfMessagesPublished, NumberOfNotificationsDelivered,
// NumberOfNotificationsFailed and NumberOfNotificationsFilteredOut
// (Monitoring Amazon SNS topics using CloudWatch). Call it before RunMetrics.
func (s *Service) SetMetrics(m Metrics) { s.metrics.m = m }

// snsMetrics sums the counts behind AWS/SNS between publications.
type snsMetrics struct {
	m      Metrics
	mu     sync.Mutex
	counts map[topicMetric]float64
}

type topicMetric struct{ account, region, topic, name string }

// countTopic adds one to metric name of the topic.
func (s *Service) countTopic(account, region, topic, name string) {
	s.countTopicN(account, region, topic, name, 1)
}

// countTopicN adds n to metric name of the topic.
func (s *Service) countTopicN(account, region, topic, name string, n int) {
	if s.metrics.m == nil || n == 0 {
		return
	}
	s.metrics.mu.Lock()
	defer s.metrics.mu.Unlock()
	if s.metrics.counts == nil {
		s.metrics.counts = map[topicMetric]float64{}
	}
	s.metrics.counts[topicMetric{account, region, topic, name}] += float64(n)
}

// countDelivery counts a subscription's delivery to the topic its ARN
// (arn:aws:sns:<region>:<account>:<topic>:<id>) names.
func (s *Service) countDelivery(subARN, name string) {
	if s.metrics.m == nil {
		return
	}
	// The fields found without splitting: every delivery is counted.
	var parts [7]string
	rest := subARN
	for i := range 6 {
		var ok bool
		if parts[i], rest, ok = strings.Cut(rest, ":"); !ok {
			return
		}
	}
	if strings.IndexByte(rest, ':') >= 0 {
		return
	}
	s.countTopic(parts[4], parts[3], parts[5], name)
}

// RunMetrics publishes the counts every second until ctx is cancelled (SNS
// publishes per minute; wharf sooner, so that alarms react in seconds). A
// metric is sent only when not zero, as SNS does.
func (s *Service) RunMetrics(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.clock.After(time.Second):
		}
		s.publishMetrics(ctx)
	}
}

func (s *Service) publishMetrics(ctx context.Context) {
	if s.metrics.m == nil {
		return
	}
	s.metrics.mu.Lock()
	counts := s.metrics.counts
	s.metrics.counts = nil
	s.metrics.mu.Unlock()
	type scope struct{ account, region string }
	data := map[scope][]cloudwatch.Datum{}
	now := s.clock.Now()
	for k, v := range counts {
		sc := scope{k.account, k.region}
		data[sc] = append(data[sc], cloudwatch.Datum{MetricName: k.name, Time: now, Value: v, Unit: "Count",
			Dimensions: map[string]string{"TopicName": k.topic}})
	}
	for sc, ds := range data {
		if err := s.metrics.m.Put(ctx, sc.account, sc.region, "AWS/SNS", ds...); err != nil && ctx.Err() == nil {
			s.log.Debug("sns: metrics", "err", err)
		}
	}
}
