package protocol

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
)

// CheckRequired reports the required members in (a pointer to a decoded input
// struct) leaves out, at any depth, as the error svc's front end returns before an
// operation runs. Codecs call it at the end of Decode, so services see only inputs
// their model's required members are present in. A member is missing when it is
// absent or JSON null; an empty string or list is present (AWS checks those with
// length constraints, which the services own).
//
// The error differs per service, not per protocol (SQS answers both its query
// and its JSON clients alike):
//   - SQS, SNS and CloudWatch: MissingParameter "The request must contain the
//     parameter QueueName." for the first missing member ("Common Errors" of
//     their API references), except that SNS answers a missing top-level
//     member InvalidParameter "Invalid parameter: SubscriptionArn Reason: no
//     value for required parameter";
//   - the others (AWS's Coral front end): ValidationException, rendered
//     ValidationError by the query codec, "1 validation error detected: Value null
//     at 'queueName' failed to satisfy constraint: Member must not be null",
//     listing every missing member; CloudWatch Logs names it
//     InvalidParameterException.
//
// S3 (rest-xml) is not checked: its required members are URI labels and query
// parameters the router already requires, and S3 reports a bad body as
// MalformedXML, which its codec does.
func CheckRequired(svc *awsapi.Service, in any) error {
	v := reflect.ValueOf(in)
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct || !hasRequired(v.Type()) || !anyMissing(v) {
		return nil
	}
	id := ""
	if svc != nil {
		id = svc.ID
	}
	if missingParameterServices[id] {
		var at [8]step
		w := walker{query: true, first: true, at: at[:0]}
		w.walk(v)
		if len(w.paths) == 0 {
			return nil
		}
		if id == "sns" && !strings.Contains(w.paths[0], ".") {
			// SNS names a missing top-level member its own way (its
			// recorded answer to Unsubscribe without SubscriptionArn).
			return &apierr.Error{Code: "InvalidParameter", Status: 400,
				Message: "Invalid parameter: " + w.paths[0] + " Reason: no value for required parameter"}
		}
		return &apierr.Error{Code: "MissingParameter", Status: 400,
			Message: "The request must contain the parameter " + w.paths[0] + "."}
	}
	var at [8]step
	w := walker{at: at[:0]}
	w.walk(v)
	if len(w.paths) == 0 {
		return nil
	}
	items := make([]string, len(w.paths))
	for i, p := range w.paths {
		items[i] = "Value null at '" + p + "' failed to satisfy constraint: Member must not be null"
	}
	plural := ""
	if len(items) > 1 {
		plural = "s"
	}
	code := "ValidationException"
	if id == "logs" {
		// CloudWatch Logs reports model validation as InvalidParameterException
		// (PutLogEvents: "Value null at 'logEvents.1.member.timestamp'").
		code = "InvalidParameterException"
	}
	return &apierr.Error{Code: code, Status: 400,
		Message: fmt.Sprintf("%d validation error%s detected: %s", len(items), plural, strings.Join(items, "; "))}
}

// missingParameterServices answer a missing member with MissingParameter.
var missingParameterServices = map[string]bool{"sqs": true, "sns": true, "cloudwatch": true}

// walker collects the paths of missing required members, in model order.
type walker struct {
	query bool // name members as query parameters (QueueName, Entries.member.1.Id), else as Coral does (queueName, entries.1.member.id)
	first bool // stop at the first
	paths []string
	// at is where the walk is, from the input down: names are rendered
	// from it only for a missing member, since building every member's
	// dotted name as the walk went allocated for every valid request.
	at []step
}

// step is a member, a list's n-th item or a map's value.
type step struct {
	field *awsapi.Field // the member; for an item, its list's member (or nil)
	item  int           // > 0: the item-th (1-based) item of the list before
	key   string        // a map value's key, when isKey
	isKey bool
}

func (w *walker) done() bool { return w.first && len(w.paths) > 0 }

// missing records the path of the walk's current step.
func (w *walker) missing() {
	name := ""
	for _, at := range w.at {
		switch {
		case at.item > 0:
			name = w.item(at.field, name, at.item)
		case at.isKey:
			name = name + "." + at.key
		case name != "":
			name = name + "." + w.name(at.field)
		default:
			name = w.name(at.field)
		}
	}
	w.paths = append(w.paths, name)
}

func (w *walker) walk(v reflect.Value) {
	sh := awsapi.ShapeOf(v.Type())
	for i := range sh.Fields {
		if w.done() {
			return
		}
		f := &sh.Fields[i]
		fv := v.Field(f.Index)
		w.at = append(w.at, step{field: f})
		if isNil(fv) {
			// SDKs fill an absent idempotency token themselves; AWS does not reject it.
			if f.Required && !f.IdempotencyToken {
				w.missing()
			}
		} else {
			w.value(fv, f)
		}
		w.at = w.at[:len(w.at)-1]
	}
}

// value descends into a present member's structures, list items and map values.
func (w *walker) value(v reflect.Value, f *awsapi.Field) {
	if !hasRequired(v.Type()) {
		return
	}
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		w.walk(v)
	case reflect.Slice:
		for i := 0; i < v.Len() && !w.done(); i++ {
			w.at = append(w.at, step{field: f, item: i + 1})
			w.value(v.Index(i), nil)
			w.at = w.at[:len(w.at)-1]
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			if w.done() {
				return
			}
			w.at = append(w.at, step{key: iter.Key().String(), isKey: true})
			w.value(iter.Value(), nil)
			w.at = w.at[:len(w.at)-1]
		}
	}
}

// anyMissing reports whether a required member is missing anywhere in the
// struct v, as walk finds them but with none of its bookkeeping: the
// walker's path escapes to the heap, and nearly every request misses
// nothing, so only those that do are walked again to name what.
func anyMissing(v reflect.Value) bool {
	sh := awsapi.ShapeOf(v.Type())
	for i := range sh.Fields {
		f := &sh.Fields[i]
		fv := v.Field(f.Index)
		if isNil(fv) {
			if f.Required && !f.IdempotencyToken {
				return true
			}
		} else if valueMissing(fv) {
			return true
		}
	}
	return false
}

// valueMissing is anyMissing for a present member, as walker.value descends.
func valueMissing(v reflect.Value) bool {
	if !hasRequired(v.Type()) {
		return false
	}
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return false
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		return anyMissing(v)
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			if valueMissing(v.Index(i)) {
				return true
			}
		}
	case reflect.Map:
		for iter := v.MapRange(); iter.Next(); {
			if valueMissing(iter.Value()) {
				return true
			}
		}
	}
	return false
}

func (w *walker) name(f *awsapi.Field) string {
	if w.query {
		if f.Flattened && f.Type.Kind() == reflect.Slice && f.MemberName != "" && f.MemberName != "member" {
			return f.MemberName
		}
		return f.WireName()
	}
	if f.Name == "" {
		return ""
	}
	return strings.ToLower(f.Name[:1]) + f.Name[1:]
}

// item names the n-th (1-based) item of list name.
func (w *walker) item(f *awsapi.Field, name string, n int) string {
	if w.query && f != nil && f.Flattened {
		return name + "." + strconv.Itoa(n)
	}
	return name + "." + strconv.Itoa(n) + ".member"
}

func isNil(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		return v.IsNil()
	}
	return false
}

var requiredTypes sync.Map // reflect.Type → bool

// hasRequired reports whether t, or any shape it contains, has a required member,
// so inputs without any (most, and DynamoDB's attribute values) are not walked.
func hasRequired(t reflect.Type) bool {
	if b, ok := requiredTypes.Load(t); ok {
		return b.(bool)
	}
	return computeRequired(t, map[reflect.Type]bool{})
}

func computeRequired(t reflect.Type, visiting map[reflect.Type]bool) bool {
	if b, ok := requiredTypes.Load(t); ok {
		return b.(bool)
	}
	if visiting[t] {
		return false // a recursive shape: the outer call decides
	}
	visiting[t] = true
	found := false
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		found = computeRequired(t.Elem(), visiting)
	case reflect.Struct:
		for _, f := range awsapi.ShapeOf(t).Fields {
			if (f.Required && !f.IdempotencyToken) || computeRequired(f.Type, visiting) {
				found = true
				break
			}
		}
	}
	delete(visiting, t)
	if len(visiting) == 0 || found {
		requiredTypes.Store(t, found)
	}
	return found
}
