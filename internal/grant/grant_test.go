package grant

import (
	"errors"
	"strings"
	"testing"
)

func TestAddKeepsWhatItDoesNotWrite(t *testing.T) {
	in := `{"Statement":{"Sid":"Own","Effect":"Deny","Principal":"*","Action":"sqs:*","Resource":"r","Condition":{"Bool":{"aws:SecureTransport":"false"}}},"Version":"2008-10-17","Zed":1}`
	got, err := Add(in, "2012-10-17", "ignored", Statement{Sid: "L", Principals: []string{"a", "b"}, Actions: []string{"SQS:SendMessage"}, Resource: "r"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Version":"2008-10-17","Statement":[{"Sid":"Own","Effect":"Deny","Principal":"*","Action":"sqs:*","Resource":"r","Condition":{"Bool":{"aws:SecureTransport":"false"}}},{"Sid":"L","Effect":"Allow","Principal":{"AWS":["a","b"]},"Action":"SQS:SendMessage","Resource":"r"}],"Zed":1}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestAddToNoPolicyCreatesADocument(t *testing.T) {
	got, err := Add("", "2012-10-17", "q/SQSDefaultPolicy", Statement{Sid: "L", Principals: []string{"a"}, Actions: []string{"SQS:*"}, Resource: "r"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Version":"2012-10-17","Id":"q/SQSDefaultPolicy","Statement":[{"Sid":"L","Effect":"Allow","Principal":{"AWS":"a"},"Action":"SQS:*","Resource":"r"}]}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if _, err := Add(got, "", "", Statement{Sid: "L"}); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate label: %v", err)
	}
}

func TestRemove(t *testing.T) {
	in := `{"Version":"2012-10-17","Statement":[{"Sid":"A"},{"Sid":"B"}]}`
	got, empty, err := Remove(in, "A")
	if err != nil || empty || got != `{"Version":"2012-10-17","Statement":[{"Sid":"B"}]}` {
		t.Fatalf("got %s %v %v", got, empty, err)
	}
	if _, empty, err = Remove(got, "B"); err != nil || !empty {
		t.Fatalf("last statement: empty %v err %v", empty, err)
	}
	if _, _, err := Remove(in, "C"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing label: %v", err)
	}
	if _, _, err := Remove(`[1]`, "A"); !errors.Is(err, ErrBadPolicy) {
		t.Fatalf("not an object: %v", err)
	}
}

func TestValidLabel(t *testing.T) {
	for label, want := range map[string]bool{
		"Partner_Send-1": true, strings.Repeat("a", 80): true,
		"": false, strings.Repeat("a", 81): false, "has space": false, "dot.ted": false, "é": false,
	} {
		if got := ValidLabel(label); got != want {
			t.Errorf("ValidLabel(%q) = %v, want %v", label, got, want)
		}
	}
}
