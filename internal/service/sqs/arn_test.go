package sqs

import "testing"

// TestParseQueueARN: a queue ARN has exactly six colon-separated fields,
// the service sqs and a name.
func TestParseQueueARN(t *testing.T) {
	for _, c := range []struct {
		arn                   string
		region, account, name string
		ok                    bool
	}{
		{"arn:aws:sqs:us-east-1:000000000000:q", "us-east-1", "000000000000", "q", true},
		{"arn:aws:sqs:eu-west-1:111111111111:q.fifo", "eu-west-1", "111111111111", "q.fifo", true},
		{"arn:aws:sqs:us-east-1:000000000000:", "", "", "", false},
		{"arn:aws:sqs:us-east-1:000000000000:q:extra", "", "", "", false},
		{"arn:aws:sns:us-east-1:000000000000:q", "", "", "", false},
		{"arn:aws:sqs:us-east-1:000000000000", "", "", "", false},
		{"urn:aws:sqs:us-east-1:000000000000:q", "", "", "", false},
		{"", "", "", "", false},
	} {
		region, account, name, ok := parseQueueARN(c.arn)
		if region != c.region || account != c.account || name != c.name || ok != c.ok {
			t.Errorf("parseQueueARN(%q) = %q, %q, %q, %v; want %q, %q, %q, %v", c.arn, region, account, name, ok, c.region, c.account, c.name, c.ok)
		}
	}
}
