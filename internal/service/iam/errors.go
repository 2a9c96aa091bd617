package iam

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/lazyregexp"
)

// IAM and STS speak the query protocol, whose error codes are the model's
// error.code values (NoSuchEntity), not the exception shape names.

func noSuchEntity(format string, args ...any) error {
	return apierr.New("NoSuchEntity", 404, format, args...)
}

func alreadyExists(format string, args ...any) error {
	return apierr.New("EntityAlreadyExists", 409, format, args...)
}

func deleteConflict(format string, args ...any) error {
	return apierr.New("DeleteConflict", 409, format, args...)
}

func limitExceeded(format string, args ...any) error {
	return apierr.New("LimitExceeded", 409, format, args...)
}

func invalidInput(format string, args ...any) error {
	return apierr.New("InvalidInput", 400, format, args...)
}

func malformedPolicy(format string, args ...any) error {
	return apierr.New("MalformedPolicyDocument", 400, format, args...)
}

// validationError is the query protocol's ValidationError, worded as AWS
// words constraint failures of the model.
func validationError(field, value, constraint string) error {
	return apierr.New("ValidationError", 400,
		"1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, field, constraint)
}

var namePattern = lazyregexp.New(`^[\w+=,.@-]+$`)

// checkName validates a user, role or policy name against the model's
// length and pattern constraints.
func checkName(field string, value *string, max int) (string, error) {
	if value == nil || *value == "" {
		return "", validationError(field, "", "Member must have length greater than or equal to 1")
	}
	v := *value
	if utf8.RuneCountInString(v) > max {
		return "", validationError(field, v, fmt.Sprintf("Member must have length less than or equal to %d", max))
	}
	if !namePattern.MatchString(v) {
		return "", validationError(field, v, `Member must satisfy regular expression pattern: [\w+=,.@-]+`)
	}
	return v, nil
}

var pathPattern = lazyregexp.New(`^(/|/[\x21-\x7E]+/)$`)

// checkPath validates an entity path; nil means the default "/".
func checkPath(value *string) (string, error) {
	if value == nil {
		return "/", nil
	}
	v := *value
	if len(v) > 512 || !pathPattern.MatchString(v) {
		return "", validationError("path", v, `Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)`)
	}
	return v, nil
}

// checkPolicyDocument rejects documents that are not a JSON object: IAM stores
// policies verbatim but parses them first (MalformedPolicyDocument).
func checkPolicyDocument(field string, doc *string) (string, error) {
	if doc == nil || *doc == "" {
		return "", validationError(field, "", "Member must have length greater than or equal to 1")
	}
	var v map[string]json.RawMessage
	if err := json.Unmarshal([]byte(*doc), &v); err != nil {
		return "", malformedPolicy("Syntax errors in policy.")
	}
	if ver, ok := v["Version"]; ok {
		var s string
		if json.Unmarshal(ver, &s) != nil || (s != "2012-10-17" && s != "2008-10-17") {
			return "", malformedPolicy("The policy failed legacy parsing")
		}
	}
	if _, ok := v["Statement"]; !ok {
		return "", malformedPolicy("Missing required field Statement")
	}
	return *doc, nil
}

// encodePolicy percent-encodes a policy document as IAM returns every
// policyDocumentType value (botocore's json_decode_policies undoes it): every
// byte but RFC 3986 unreserved characters is escaped, spaces as %20.
func encodePolicy(doc string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func asNoSuchEntity(err error) bool {
	e := apierr.As(err)
	return e != nil && e.Code == "NoSuchEntity"
}
