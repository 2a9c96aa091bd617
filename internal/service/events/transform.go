package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/wharf-dev/wharf/internal/awsapi"
	eventsapi "github.com/wharf-dev/wharf/internal/awsapi/events"
	"github.com/wharf-dev/wharf/internal/lazyregexp"
)

// A path step is a member name or an array index.
type step struct {
	name  string
	index int
	isIdx bool
}

// parsePath parses the JSON paths of InputPath and InputPathsMap: $, $.a.b,
// $.a[0], $['a b'].
func parsePath(p string) ([]step, error) {
	if !strings.HasPrefix(p, "$") {
		return nil, errors.New("path must start with $")
	}
	var out []step
	rest := p[1:]
	for rest != "" {
		switch {
		case rest[0] == '.':
			rest = rest[1:]
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			if end == 0 {
				return nil, errors.New("empty member name")
			}
			out = append(out, step{name: rest[:end]})
			rest = rest[end:]
		case strings.HasPrefix(rest, "['"):
			end := strings.Index(rest[2:], "']") // after the [', which "[']" would end
			if end < 0 {
				return nil, errors.New("unterminated ['")
			}
			out = append(out, step{name: rest[2 : 2+end]})
			rest = rest[2+end+2:]
		case rest[0] == '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, errors.New("unterminated [")
			}
			n, err := strconv.Atoi(rest[1:end])
			if err != nil || n < 0 {
				return nil, errors.New("bad index")
			}
			out = append(out, step{index: n, isIdx: true})
			rest = rest[end+1:]
		default:
			return nil, errors.New("unexpected " + rest[:1])
		}
	}
	return out, nil
}

// extract returns the value at path in v, and whether it exists.
func extract(v any, path []step) (any, bool) {
	for _, s := range path {
		switch t := v.(type) {
		case map[string]any:
			if s.isIdx {
				return nil, false
			}
			x, ok := t[s.name]
			if !ok {
				return nil, false
			}
			v = x
		case []any:
			if !s.isIdx || s.index >= len(t) {
				return nil, false
			}
			v = t[s.index]
		default:
			return nil, false
		}
	}
	return v, true
}

// selectPath returns the value at path in the JSON text doc as doc writes
// it (members in their order, strings and numbers as they are), compacted,
// and whether it exists. InputPath passes that part of the event through:
// AWS delivers the keys of a selected object in the order the event has
// them (the SQS messages of localstack's AWS-validated InputPath tests), not
// in the sorted order that decoding into a map and encoding it again made.
// Strings keep their escapes, as in the whole event (envelope.encode); AWS
// does not document what it does with them. As encoding/json does, the
// last of duplicate keys is the one selected.
// FuzzSelectPathMatchesExtract compares it with extract.
func selectPath(doc []byte, path []step) ([]byte, bool, error) {
	v := doc
	if len(path) == 0 {
		var whole json.RawMessage
		if err := json.NewDecoder(bytes.NewReader(doc)).Decode(&whole); err != nil {
			return nil, false, err
		}
		v = whole
	}
	for _, s := range path {
		d := json.NewDecoder(bytes.NewReader(v))
		tok, err := d.Token()
		if err != nil {
			return nil, false, err
		}
		var found json.RawMessage
		switch {
		case tok == json.Delim('{') && !s.isIdx:
			for d.More() {
				key, err := d.Token()
				if err != nil {
					return nil, false, err
				}
				var x json.RawMessage
				if err := d.Decode(&x); err != nil {
					return nil, false, err
				}
				if key == s.name {
					found = x
				}
			}
		case tok == json.Delim('[') && s.isIdx:
			for i := 0; d.More(); i++ {
				var x json.RawMessage
				if err := d.Decode(&x); err != nil {
					return nil, false, err
				}
				if i == s.index {
					found = x
					break
				}
			}
		}
		if found == nil {
			return nil, false, nil
		}
		v = found
	}
	if compact(v) {
		return v, true, nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return nil, false, err
	}
	return b.Bytes(), true, nil
}

var reservedVars = map[string]bool{"aws.events.rule-arn": true, "aws.events.rule-name": true, "aws.events.event": true, "aws.events.event.ingestion-time": true, "aws.events.event.json": true}

// placeholderRE is what EventBridge takes for a placeholder between < and >
// in an InputTemplate (the characters cannot be escaped: "Amazon EventBridge
// input transformation").
var placeholderRE = lazyregexp.New(`^[A-Za-z0-9_.\-]+$`)

// undefinedPlaceholder returns the first placeholder of t's InputTemplate that
// is neither a variable of its InputPathsMap nor a predefined one, or "".
func undefinedPlaceholder(t *eventsapi.InputTransformer) string {
	tpl := awsapi.ToString(t.InputTemplate)
	for {
		i := strings.IndexByte(tpl, '<')
		if i < 0 {
			return ""
		}
		end := strings.IndexByte(tpl[i+1:], '>')
		if end < 0 {
			return ""
		}
		name := tpl[i+1 : i+1+end]
		if placeholderRE.MatchString(name) && !reservedVars[name] && !isVarName(name, t.InputPathsMap) {
			return name
		}
		tpl = tpl[i+1:]
	}
}

// checkTransformer returns why an InputTransformer is not valid, or "".
func checkTransformer(t *eventsapi.InputTransformer) string {
	if len(t.InputPathsMap) > 100 {
		return "InputPathsMap has more than 100 entries."
	}
	for k, p := range t.InputPathsMap {
		if reservedVars[k] || strings.HasPrefix(k, "aws.") {
			return "Input transformer variable name " + k + " is reserved."
		}
		if _, err := parsePath(p); err != nil {
			return "InputPathsMap has an invalid JSON path for " + k + ": " + p
		}
	}
	if t.InputTemplate == nil {
		return "InputTemplate is required."
	}
	if len(*t.InputTemplate) > 8192 {
		return "InputTemplate is longer than 8192 characters."
	}
	return ""
}

// targetInput computes what a target receives for an event (Input, InputPath,
// InputTransformer, or the event itself).
func targetInput(t *eventsapi.Target, event []byte, ruleArnS, ruleName string, ingested string) ([]byte, error) {
	switch {
	case t.Input != nil:
		return []byte(*t.Input), nil
	case t.InputPath != nil:
		path, err := parsePath(*t.InputPath)
		if err != nil {
			return nil, err
		}
		sel, ok, err := selectPath(event, path)
		if err != nil {
			return nil, err
		}
		if !ok {
			return []byte("null"), nil
		}
		return sel, nil
	case t.InputTransformer != nil:
		return transform(t.InputTransformer, event, ruleArnS, ruleName, ingested)
	}
	return event, nil
}

// transform renders an InputTemplate ("Transforming Amazon EventBridge target
// input"). A placeholder inside a JSON string is replaced by the value's text
// (a string without its quotes, unescaped, as AWS does not escape extracted
// values; an object or array as quoteless JSON, see render); outside a string,
// by the value's JSON. Undefined variables render as nothing inside strings
// and null outside. When the result is JSON it is minified, as AWS passes it
// on.
func transform(t *eventsapi.InputTransformer, event []byte, ruleArnS, ruleName, ingested string) ([]byte, error) {
	var ev any
	if err := decodeJSON(event, &ev); err != nil {
		return nil, err
	}
	vars := map[string]any{
		"aws.events.rule-arn":             ruleArnS,
		"aws.events.rule-name":            ruleName,
		"aws.events.event":                json.RawMessage(event),
		"aws.events.event.ingestion-time": ingested,
		"aws.events.event.json":           string(event),
	}
	for k, p := range t.InputPathsMap {
		path, err := parsePath(p)
		if err != nil {
			return nil, err
		}
		if x, ok := extract(ev, path); ok {
			vars[k] = x
		}
	}
	tpl := awsapi.ToString(t.InputTemplate)
	object := strings.HasPrefix(strings.TrimLeft(tpl, " \t\r\n"), "{")
	var out bytes.Buffer
	inString := false
	for i := 0; i < len(tpl); i++ {
		c := tpl[i]
		switch {
		case c == '\\' && inString && i+1 < len(tpl):
			out.WriteByte(c)
			out.WriteByte(tpl[i+1])
			i++
			continue
		case c == '"':
			inString = !inString
		case c == '<':
			end := strings.IndexByte(tpl[i+1:], '>')
			if end >= 0 {
				name := tpl[i+1 : i+1+end]
				if v, ok := vars[name]; ok || isVarName(name, t.InputPathsMap) {
					if err := render(&out, v, ok, inString, object); err != nil {
						return nil, err
					}
					i += end + 1
					continue
				}
			}
		}
		out.WriteByte(c)
	}
	res := out.Bytes()
	var compact bytes.Buffer
	if json.Compact(&compact, res) == nil {
		return compact.Bytes(), nil
	}
	return res, nil
}

func isVarName(name string, m map[string]string) bool {
	_, ok := m[name]
	return ok
}

// errObjectInString is why an event is not delivered to a target whose
// JSON-object template puts an object or array value inside a string.
var errObjectInString = errors.New("an object or array value inside a string of a JSON object InputTemplate")

// render writes the value v of a placeholder (ok if it is defined), inside a
// string of the template or not, in a template that is a JSON object or not.
//
// An object or array value inside a string loses its quotes, as AWS renders
// it: localstack's AWS-validated test_input_transformer_nested_keys_replacement
// recorded "<listmulti> multiple list items" with ["ACTIVE", "INACTIVE"]
// reaching SQS as "[ACTIVE,INACTIVE] multiple list items" and a payload
// {"acc_id": ..., "sf_id": "baz"} inside a string as {acc_id:...,sf_id:baz}.
// In a template that is a JSON object AWS delivers nothing instead
// (test_input_transformer_nested_keys_replacement_not_valid: no message for
// {"payload": "<payload>"} nor {"singlelistitem": "<listsingle>"}); the
// error makes the dispatcher skip the target. The reserved
// <aws.events.event> is left as it was: no record shows it in a string.
func render(out *bytes.Buffer, v any, ok, inString, object bool) error {
	if !ok {
		if !inString {
			out.WriteString("null")
		}
		return nil
	}
	if inString {
		switch v := v.(type) {
		case string:
			out.WriteString(v)
			return nil
		case map[string]any, []any:
			if object {
				return errObjectInString
			}
			b, err := marshal(v)
			if err != nil {
				return err
			}
			for _, c := range b {
				if c != '"' {
					out.WriteByte(c)
				}
			}
			return nil
		}
	}
	b, err := marshal(v)
	if err != nil {
		return err
	}
	out.Write(b)
	return nil
}

func decodeJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

// marshal is json.Marshal without HTML escaping, as AWS leaves <, > and & alone.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
