package iampolicy

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: any document parses or is refused with an API error, never a
// panic; a parsed policy evaluates without one.
func FuzzParse(f *testing.F) {
	f.Add(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`)
	f.Add(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":["111111111111"]},"NotAction":"s3:Get*","NotResource":"arn:*","Condition":{"ForAnyValue:StringLikeIfExists":{"aws:TagKeys":["a*","${aws:username}"]}}}]}`)
	if files, _ := filepath.Glob("testdata/eval/*.json"); len(files) > 0 {
		if b, err := os.ReadFile(files[0]); err == nil && len(b) < 1<<16 {
			f.Add(string(b))
		}
	}
	f.Fuzz(func(t *testing.T, doc string) {
		for _, k := range []Kind{Identity, Resource} {
			p, err := Parse(doc, k)
			if err != nil {
				continue
			}
			req := &Request{Principal: Principal{ARN: "arn:aws:iam::111111111111:user/bob", Account: "111111111111"},
				Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Context: Context{"aws:username": {"bob"}, "aws:tagkeys": {"a", "b"}}}
			ps := Policies{Identity: []Named{{"p", p}}}
			if k == Resource {
				ps = Policies{Resource: []Named{{"p", p}}}
			}
			Evaluate(req, ps)
		}
	})
}

// FuzzCondition: every operator with any policy and request values decides
// without a panic, and Like with no wildcards agrees with Equals.
func FuzzCondition(f *testing.F) {
	f.Add("StringLike", "a*b?", "axxbc", "")
	f.Add("ForAllValues:NumericLessThanIfExists", "1e3", "999", "7")
	f.Add("DateGreaterThan", "2020-01-01T00:00:00Z", "1577836801", "")
	f.Add("IpAddress", "10.0.0.0/8", "10.1.2.3", "::1")
	f.Add("ArnLike", "arn:aws:*:*:*:*", "arn:aws:s3:::b", "")
	f.Add("Null", "true", "", "")
	f.Add("BinaryEquals", "QQ==", "QQ==", "")
	f.Fuzz(func(t *testing.T, op, policyVal, reqVal, reqVal2 string) {
		o, set, ifExists, ok := lookupOperator(op)
		if !ok {
			return
		}
		c := Condition{Operator: op, op: o, set: set, ifExists: ifExists, Key: "k:k", Values: []string{policyVal}}
		ctx := Context{}
		if reqVal != "" {
			ctx.Set("k:k", reqVal, reqVal2)
		}
		c.eval(&Request{Context: ctx}, func(string) (string, bool) { return "v", true })
		if op == "StringLike" {
			plain := true
			for _, r := range policyVal {
				if r == '*' || r == '?' || r == 0 {
					plain = false
				}
			}
			if plain && Match(policyVal, reqVal, false) != (policyVal == reqVal) {
				t.Fatalf("StringLike %q vs %q disagrees with equality", policyVal, reqVal)
			}
		}
	})
}
