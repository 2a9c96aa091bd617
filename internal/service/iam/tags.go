package iam

import (
	"fmt"
	"unicode/utf8"

	"github.com/wharf-dev/wharf/internal/awsapi"
	api "github.com/wharf-dev/wharf/internal/awsapi/iam"
	"github.com/wharf-dev/wharf/internal/lazyregexp"
)

const maxTags = 50

var tagPattern = lazyregexp.New(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

// checkTags validates tags as IAM does: keys 1..128 characters, values up to 256,
// the tag character set, and no key twice in one request.
func checkTags(in []api.Tag) ([]tag, error) {
	seen := map[string]bool{}
	out := make([]tag, 0, len(in))
	for _, t := range in {
		k, v := awsapi.ToString(t.Key), awsapi.ToString(t.Value)
		if n := utf8.RuneCountInString(k); n < 1 || n > 128 || !tagPattern.MatchString(k) {
			return nil, validationError("tags.member.key", k, `Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+`)
		}
		if utf8.RuneCountInString(v) > 256 || !tagPattern.MatchString(v) {
			return nil, validationError("tags.member.value", v, `Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]*`)
		}
		if seen[k] {
			return nil, invalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[k] = true
		out = append(out, tag{Key: k, Value: v})
	}
	if len(out) > maxTags {
		return nil, limitExceeded("The number of tags has reached the maximum limit.")
	}
	return out, nil
}

// mergeTags adds or overwrites tags, keeping the order in which keys first
// appeared.
func mergeTags(have, add []tag) ([]tag, error) {
	out := append([]tag(nil), have...)
	for _, a := range add {
		replaced := false
		for i := range out {
			if out[i].Key == a.Key {
				out[i].Value, replaced = a.Value, true
			}
		}
		if !replaced {
			out = append(out, a)
		}
	}
	if len(out) > maxTags {
		return nil, limitExceeded("The number of tags has reached the maximum limit.")
	}
	return out, nil
}

func removeTags(have []tag, keys []string) []tag {
	drop := map[string]bool{}
	for _, k := range keys {
		drop[k] = true
	}
	var out []tag
	for _, t := range have {
		if !drop[t.Key] {
			out = append(out, t)
		}
	}
	return out
}

func apiTags(ts []tag) []api.Tag {
	if len(ts) == 0 {
		return nil
	}
	out := make([]api.Tag, len(ts))
	for i, t := range ts {
		out[i] = api.Tag{Key: awsapi.String(t.Key), Value: awsapi.String(t.Value)}
	}
	return out
}

// pageTags paginates a tag list by position: IAM returns tags in the order
// they were added, not sorted.
func pageTags(ts []tag, marker *string, maxItems *int32) ([]api.Tag, bool, *string, error) {
	type indexed struct {
		i int
		t tag
	}
	items := make([]indexed, len(ts))
	for i, t := range ts {
		items[i] = indexed{i, t}
	}
	page, truncated, next, err := page(items, func(x indexed) string { return fmt.Sprintf("%04d", x.i) }, marker, maxItems)
	if err != nil {
		return nil, false, nil, err
	}
	out := make([]tag, len(page))
	for i, p := range page {
		out[i] = p.t
	}
	tags := apiTags(out)
	if tags == nil {
		tags = []api.Tag{}
	}
	return tags, truncated, next, nil
}
