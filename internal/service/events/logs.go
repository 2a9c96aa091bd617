package events

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/clock"
)

// LogGroups is what the CloudWatch Logs target needs of CloudWatch Logs:
// appending one log event to a stream, creating the stream when it is new.
type LogGroups interface {
	WriteLogEvent(ctx context.Context, account, region, group, stream string, t time.Time, message string) error
}

// LogsTarget delivers events to CloudWatch Logs log groups named by their ARN
// (arn:aws:logs:<region>:<account>:log-group:<name>[:*]). Each event becomes one
// log event whose message is the event JSON (or the target's Input), in a log
// stream of its own with a new unique name: on AWS one event delivered by two
// targets to the same group lands in two streams, neither named after the
// event's id (localstack's AWS-validated snapshot of a scheduled rule with two
// log group targets). Its timestamp is the event's time.
type LogsTarget struct {
	Groups LogGroups
	// Clock stamps an event without a time; nil means clock.Real.
	Clock clock.Clock
}

// Deliver writes d.Input to the log group d.Target.Arn names.
func (t LogsTarget) Deliver(ctx context.Context, d *Delivery) error {
	if t.Groups == nil {
		return fmt.Errorf("logs target: no CloudWatch Logs")
	}
	arn := awsapi.ToString(d.Target.Arn)
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) < 7 || parts[2] != "logs" || parts[5] != "log-group" || parts[6] == "" {
		return fmt.Errorf("logs target: %q is not a log group ARN", arn)
	}
	reg, account, group := parts[3], parts[4], strings.TrimSuffix(parts[6], ":*")
	stream := uuid()
	at, message := clock.Or(t.Clock).Now(), string(d.Input)
	var ev struct {
		Time string `json:"time"`
	}
	if json.Unmarshal(d.Input, &ev) == nil {
		if tm, err := time.Parse(time.RFC3339, ev.Time); err == nil {
			at = tm
		}
	}
	// An input transformer for a log group must make {"timestamp": ..., "message": ...}
	// (EventBridge's "CloudWatch Logs" target docs): those become the log event.
	if d.Target.InputTransformer != nil {
		var tm struct {
			Timestamp *string `json:"timestamp"`
			Message   *string `json:"message"`
		}
		if json.Unmarshal(d.Input, &tm) == nil && tm.Message != nil {
			message = *tm.Message
			if tm.Timestamp != nil {
				if ts, err := time.Parse(time.RFC3339, *tm.Timestamp); err == nil {
					at = ts
				}
			}
		}
	}
	return t.Groups.WriteLogEvent(ctx, account, reg, group, stream, at, message)
}
