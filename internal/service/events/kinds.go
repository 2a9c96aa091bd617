package events

import (
	"fmt"
	"strings"
)

// targetKinds are the kinds of target wharf delivers to, by the service part
// of the target's ARN, with the resource part each must have. EventBridge on
// AWS also takes Lambda functions, Kinesis and Firehose streams, Step
// Functions state machines, API destinations and more; wharf has none of
// those, so it refuses them when they are configured instead of accepting
// them and dropping every event.
var targetKinds = []struct {
	service string
	what    string
	ok      func(resource string) bool
}{
	{"sqs", "SQS queues", func(r string) bool { return r != "" && !strings.ContainsAny(r, ":/") }},
	{"sns", "SNS topics", func(r string) bool { return r != "" && !strings.ContainsAny(r, ":/") }},
	{"ecs", "ECS clusters", func(r string) bool { return strings.HasPrefix(r, "cluster/") && len(r) > len("cluster/") }},
	{"logs", "CloudWatch Logs log groups", func(r string) bool { return strings.HasPrefix(r, "log-group:") && len(r) > len("log-group:") }},
	{"events", "event buses", func(r string) bool { return strings.HasPrefix(r, "event-bus/") && len(r) > len("event-bus/") }},
}

// Unsupported says why wharf cannot deliver to the target ARN, or "" when it
// can: the ARN's service is one wharf has, and the resource is of the kind
// EventBridge delivers to there. Scheduler refuses the same targets.
func Unsupported(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 {
		return "Provided Arn is not in correct format."
	}
	var kinds []string
	for _, k := range targetKinds {
		kinds = append(kinds, k.what)
		if k.service != parts[2] {
			continue
		}
		if !k.ok(parts[5]) {
			return fmt.Sprintf("wharf delivers %s targets only to %s; %q is not one.", k.service, k.what, parts[5])
		}
		return ""
	}
	return fmt.Sprintf("wharf does not deliver to %s targets; it delivers to %s and %s.", parts[2], strings.Join(kinds[:len(kinds)-1], ", "), kinds[len(kinds)-1])
}
