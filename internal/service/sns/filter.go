package sns

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/wharf-dev/wharf/internal/pattern"
)

// Filter policy scopes (Subscription filter policies, Amazon SNS Developer Guide).
const (
	scopeAttributes = "MessageAttributes"
	scopeBody       = "MessageBody"
)

// filter is a compiled subscription filter policy. SNS's operators (exact,
// prefix, suffix, equals-ignore-case, anything-but, numeric, exists, cidr,
// $or) are those of EventBridge patterns, so package pattern matches them.
// maxFilterPolicy is the largest filter policy ("Filter policy constraints in
// Amazon SNS": 256 KB).
const maxFilterPolicy = 256 << 10

type filter struct {
	body bool // scope MessageBody; else MessageAttributes
	p    *pattern.Pattern
}

// compileFilter checks and compiles a filter policy for scope ("" means
// MessageAttributes, the default).
func compileFilter(policy, scope string) (*filter, error) {
	if len(policy) > maxFilterPolicy {
		return nil, errInvalidParameter("FilterPolicy: Filter policy can not be larger than %d bytes; it is %d", maxFilterPolicy, len(policy))
	}
	var v any
	d := json.NewDecoder(strings.NewReader(policy))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, errInvalidParameter("FilterPolicy: failed to parse JSON. %s", err.Error())
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errInvalidParameter("FilterPolicy: Filter policy must be a JSON object")
	}
	body := scope == scopeBody
	if !body {
		for k, val := range obj {
			if k == "$or" {
				continue
			}
			if _, nested := val.(map[string]any); nested {
				return nil, errInvalidParameter("Filter policy scope MessageAttributes does not support nested filter policy")
			}
		}
	}
	p, err := pattern.Compile([]byte(policy))
	if err != nil {
		return nil, errInvalidParameter("FilterPolicy: %s", err.Error())
	}
	return &filter{body: body, p: p}, nil
}

// matches reports whether a message passes the filter. A body that is not a
// JSON object never matches a MessageBody policy; binary attributes are not
// matched (they are invisible to attribute policies).
func (f *filter) matches(body string, attrs map[string]msgAttr) bool {
	if f.body {
		ev, err := pattern.ParseEvent([]byte(body))
		return err == nil && f.p.MatchEvent(ev)
	}
	obj := make(map[string]any, len(attrs))
	for name, a := range attrs {
		base, _, _ := strings.Cut(a.DataType, ".")
		switch {
		case a.DataType == "String.Array":
			var arr []any
			d := json.NewDecoder(bytes.NewReader([]byte(a.StringValue)))
			d.UseNumber()
			if d.Decode(&arr) == nil {
				obj[name] = arr
			}
		case base == "Number":
			obj[name] = json.Number(a.StringValue)
		case base == "String":
			obj[name] = a.StringValue
		}
	}
	return f.p.MatchEvent(pattern.EventFromValue(obj))
}
