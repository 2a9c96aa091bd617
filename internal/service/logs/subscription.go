package logs

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/wharf-dev/wharf/internal/awsapi"
	logsapi "github.com/wharf-dev/wharf/internal/awsapi/logs"
	"github.com/wharf-dev/wharf/internal/store"
)

// Subscription filters stream a log group's events to a Kinesis data stream,
// a Firehose delivery stream, a Lambda function or a cross-account CloudWatch
// Logs destination (PutSubscriptionFilter docs). wharf has none of those, so
// no subscription filter can be created: PutSubscriptionFilter validates the
// request as CloudWatch Logs does and then refuses the destination, as AWS
// refuses one its test message cannot reach, rather than accepting a filter
// and dropping every event. Describe and Delete answer for the groups that
// exist, which then have no subscription filters.

// subscriptionDestinations are the destination kinds AWS allows, by the
// service part of the ARN, with the resource part each has.
var subscriptionDestinations = map[string]string{
	"kinesis":  "stream/",
	"firehose": "deliverystream/",
	"lambda":   "function:",
	"logs":     "destination:",
}

// checkDestination validates a subscription filter's destination ARN.
func checkDestination(arn string) error {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[3] == "" || parts[4] == "" {
		return invalidParam("Invalid destinationArn: %s", arn)
	}
	if prefix, ok := subscriptionDestinations[parts[2]]; !ok || !strings.HasPrefix(parts[5], prefix) {
		return invalidParam("Invalid destinationArn: %s. A subscription filter delivers to a Kinesis data stream, a Firehose delivery stream, a Lambda function or a CloudWatch Logs destination.", arn)
	}
	return nil
}

// PutSubscriptionFilter validates a subscription filter, then refuses it:
// wharf cannot deliver to any destination a subscription filter may have.
func (s *Service) PutSubscriptionFilter(ctx context.Context, in *logsapi.PutSubscriptionFilterInput) (*logsapi.PutSubscriptionFilterOutput, error) {
	sc := scopeOf(ctx)
	g := awsapi.ToString(in.LogGroupName)
	if err := checkGroupName("logGroupName", g); err != nil {
		return nil, err
	}
	if err := checkFilterName(awsapi.ToString(in.FilterName)); err != nil {
		return nil, err
	}
	pattern := awsapi.ToString(in.FilterPattern)
	if utf8.RuneCountInString(pattern) > 1024 {
		return nil, invalidParam("1 validation error detected: Value at 'filterPattern' failed to satisfy constraint: Member must have length less than or equal to 1024")
	}
	if d := awsapi.ToString(in.Distribution); in.Distribution != nil && d != "Random" && d != "ByLogStream" {
		return nil, invalidParam("1 validation error detected: Value '%s' at 'distribution' failed to satisfy constraint: Member must satisfy enum value set: [Random, ByLogStream]", d)
	}
	if _, err := compileFilter(pattern); err != nil {
		return nil, err
	}
	dest := awsapi.ToString(in.DestinationArn)
	if err := checkDestination(dest); err != nil {
		return nil, err
	}
	if err := s.groupExists(sc, g); err != nil {
		return nil, err
	}
	service := strings.SplitN(dest, ":", 4)[2]
	return nil, invalidParam("Could not deliver test message to specified destination. Check if the destination is valid. (wharf has no %s: it cannot deliver a subscription filter's events to %s.)", map[string]string{
		"kinesis": "Kinesis Data Streams", "firehose": "Amazon Data Firehose", "lambda": "AWS Lambda", "logs": "cross-account CloudWatch Logs destinations"}[service], dest)
}

// DescribeSubscriptionFilters lists a log group's subscription filters: none,
// since wharf cannot create one.
func (s *Service) DescribeSubscriptionFilters(ctx context.Context, in *logsapi.DescribeSubscriptionFiltersInput) (*logsapi.DescribeSubscriptionFiltersOutput, error) {
	sc := scopeOf(ctx)
	g := awsapi.ToString(in.LogGroupName)
	if err := checkGroupName("logGroupName", g); err != nil {
		return nil, err
	}
	if p := awsapi.ToString(in.FilterNamePrefix); in.FilterNamePrefix != nil {
		if err := checkFilterName(p); err != nil {
			return nil, err
		}
	}
	if _, err := limitOf(in.Limit, 50, 50, "limit"); err != nil {
		return nil, err
	}
	if err := s.groupExists(sc, g); err != nil {
		return nil, err
	}
	return &logsapi.DescribeSubscriptionFiltersOutput{SubscriptionFilters: []logsapi.SubscriptionFilter{}}, nil
}

// DeleteSubscriptionFilter deletes a subscription filter; none exists.
func (s *Service) DeleteSubscriptionFilter(ctx context.Context, in *logsapi.DeleteSubscriptionFilterInput) (*logsapi.DeleteSubscriptionFilterOutput, error) {
	sc := scopeOf(ctx)
	g := awsapi.ToString(in.LogGroupName)
	if err := checkGroupName("logGroupName", g); err != nil {
		return nil, err
	}
	if err := checkFilterName(awsapi.ToString(in.FilterName)); err != nil {
		return nil, err
	}
	if err := s.groupExists(sc, g); err != nil {
		return nil, err
	}
	return nil, logsapi.ErrResourceNotFoundException("The specified subscription filter does not exist.")
}

// groupExists fails with ResourceNotFoundException unless the group exists.
func (s *Service) groupExists(sc scope, g string) error {
	return s.st.View(func(tx store.Tx) error {
		ok, err := getJSON(tx, groupKey(sc, g), &group{})
		if err != nil {
			return err
		}
		if !ok {
			return errGroupNotFound()
		}
		return nil
	})
}
