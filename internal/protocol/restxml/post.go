package restxml

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
)

// Browser-based uploads ("Browser-based uploads using POST" in the S3 API
// reference): an HTML form POSTs multipart/form-data to a bucket's URL, its
// fields (key, policy, Content-Type, x-amz-meta-*, ...) first and the file
// last. The codec checks the fields against the policy document and then
// serves the request as the PutObject it describes, streaming the file part
// as the body; the answer is the form's: 204 by default, 200 or 201 (with a
// PostResponse document) as success_action_status asks, or a 303 to
// success_action_redirect.
//
// The codec checks the policy; the server verifies the form's signature
// (FormAuth) under --auth strict, and not under --auth any, as for every
// other request.

// postUploads are the POST uploads being served, by request: Operation
// records one, Encode or EncodeError (one of which ends every request)
// removes it.
var postUploads sync.Map // *http.Request -> *postUpload

// postUpload is how a POST upload wants its answer, and what its form
// claimed to be signed by.
type postUpload struct {
	bucket, key string
	status      int
	redirect    string
	auth        map[string]string // the form's signature fields, by lower-case name
}

// postAuthFields are the form fields that sign a POST upload ("Browser-based
// uploads using POST": SigV4's and SigV2's).
var postAuthFields = []string{"policy", "awsaccesskeyid", "signature", "x-amz-algorithm", "x-amz-credential",
	"x-amz-date", "x-amz-signature", "x-amz-security-token"}

// FormAuth returns the signature fields of r's form when r is a browser
// POST upload that Operation has read (lower-case names: policy,
// x-amz-credential, x-amz-signature, awsaccesskeyid, signature, ...): the
// server verifies them, since the request has no Authorization header.
func (Codec) FormAuth(r *http.Request) (map[string]string, bool) {
	up, ok := postUploads.Load(r)
	if !ok {
		return nil, false
	}
	return up.(*postUpload).auth, true
}

const (
	maxPostField  = 20 << 10 // per form field before the file
	maxPostFields = 1 << 20  // all form fields before the file
)

// isPostUpload reports whether r is a browser POST upload to a bucket.
func isPostUpload(r *http.Request) bool {
	if r.Method != http.MethodPost || r.URL.Query().Has("delete") {
		return false
	}
	if p := strings.Trim(r.URL.Path, "/"); p == "" || strings.Contains(p, "/") {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

func postError(code string, status int, msg string) *apierr.Error {
	return &apierr.Error{Code: code, Status: status, Message: msg}
}

func policyDenied(msg string) *apierr.Error {
	return postError("AccessDenied", http.StatusForbidden, "Invalid according to Policy: "+msg)
}

func invalidPolicy(msg string) *apierr.Error {
	return postError("InvalidPolicyDocument", http.StatusBadRequest, "Invalid Policy: "+msg)
}

// rewritePost reads a POST upload's form fields, checks them against its
// policy, and turns r into the PutObject it describes.
func rewritePost(r *http.Request) error {
	bucket := strings.Trim(r.URL.Path, "/")
	mr, err := r.MultipartReader()
	if err != nil {
		return postError("MalformedPOSTRequest", http.StatusBadRequest, "The body of your POST request is not well-formed multipart/form-data.")
	}
	type field struct{ name, value string }
	var fields []field
	values := map[string]string{} // by lower-case name
	var file *multipart.Part
	total := 0
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return postError("MalformedPOSTRequest", http.StatusBadRequest, "The body of your POST request is not well-formed multipart/form-data.")
		}
		name := p.FormName()
		if strings.EqualFold(name, "file") {
			file = p
			break
		}
		b, err := io.ReadAll(io.LimitReader(p, maxPostField+1))
		total += len(b)
		if err != nil || len(b) > maxPostField || total > maxPostFields {
			return postError("MaxPostPreDataLengthExceeded", http.StatusBadRequest,
				"Your POST request fields preceeding the upload file was too large.")
		}
		fields = append(fields, field{name, string(b)})
		values[strings.ToLower(name)] = string(b)
	}
	if file == nil {
		return invalidArgument("POST requires exactly one file upload per request.", "file", "0")
	}
	key, ok := values["key"]
	if !ok {
		return invalidArgument("Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.", "key", "")
	}
	key = strings.ReplaceAll(key, "${filename}", file.FileName())
	values["key"] = key
	values["bucket"] = bucket

	lengths := [2]int64{0, -1}
	if enc, ok := values["policy"]; ok {
		_, v2 := values["signature"]
		_, v4 := values["x-amz-signature"]
		if !v2 && !v4 {
			return invalidArgument("Bucket POST must contain a field named 'Signature'.  If it is specified, please check the order of the fields.", "Signature", "")
		}
		exempt := func(n string) bool {
			switch n {
			case "policy", "signature", "awsaccesskeyid", "x-amz-signature", "file", "bucket":
				return true
			}
			// Checksums of the file are checked against the file itself.
			return strings.HasPrefix(n, "x-ignore-") || strings.HasPrefix(n, "x-amz-checksum-")
		}
		covered, rng, err := checkPolicy(enc, values, time.Now())
		if err != nil {
			return err
		}
		lengths = rng
		for _, f := range fields {
			if n := strings.ToLower(f.name); !exempt(n) && !covered[n] {
				return policyDenied("Extra input fields: " + f.name)
			}
		}
	}

	up := &postUpload{bucket: bucket, key: key, status: http.StatusNoContent, auth: map[string]string{}}
	for _, n := range postAuthFields {
		if v, ok := values[n]; ok {
			up.auth[n] = v
		}
	}
	switch values["success_action_status"] {
	case "200":
		up.status = http.StatusOK
	case "201":
		up.status = http.StatusCreated
	}
	if red := values["success_action_redirect"]; red != "" {
		up.redirect = red
	} else if red := values["redirect"]; red != "" {
		up.redirect = red
	}

	h := http.Header{}
	for _, f := range fields {
		n := strings.ToLower(f.name)
		switch {
		case n == "content-type", n == "cache-control", n == "content-disposition", n == "content-encoding", n == "expires",
			strings.HasPrefix(n, "x-amz-meta-"), strings.HasPrefix(n, "x-amz-server-side-encryption"), strings.HasPrefix(n, "x-amz-checksum-"),
			n == "x-amz-storage-class", n == "x-amz-website-redirect-location":
			h.Set(f.name, f.value)
		case n == "tagging":
			tags, err := taggingHeader(f.value)
			if err != nil {
				return err
			}
			h.Set("x-amz-tagging", tags)
		}
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "binary/octet-stream")
	}
	r.Method = http.MethodPut
	r.URL.Path = "/" + bucket + "/" + key
	r.URL.RawPath = ""
	r.URL.RawQuery = ""
	r.Header = h
	r.ContentLength = -1
	r.Body = io.NopCloser(&lengthChecked{r: file, min: lengths[0], max: lengths[1]})
	postUploads.Store(r, up)
	return nil
}

// checkPolicy decodes a base64 policy document and checks values against
// its expiration and conditions. It returns the fields the conditions cover
// and the content-length-range ({0, -1} when there is none).
func checkPolicy(enc string, values map[string]string, now time.Time) (map[string]bool, [2]int64, error) {
	rng := [2]int64{0, -1}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, rng, invalidPolicy("Invalid Base64 Encoding.")
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, rng, invalidPolicy("Invalid JSON.")
	}
	var exp string
	if err := json.Unmarshal(doc["expiration"], &exp); err != nil || doc["expiration"] == nil {
		return nil, rng, invalidPolicy("Policy missing expiration.")
	}
	t, err := time.Parse(time.RFC3339, exp)
	if err != nil {
		return nil, rng, invalidPolicy("Invalid 'expiration' value: '" + exp + "'")
	}
	if now.After(t) {
		return nil, rng, policyDenied("Policy expired.")
	}
	var conds []json.RawMessage
	if doc["conditions"] == nil {
		return nil, rng, invalidPolicy("Policy missing conditions.")
	}
	if err := json.Unmarshal(doc["conditions"], &conds); err != nil {
		return nil, rng, invalidPolicy("Invalid 'conditions' value: must be a List.")
	}
	covered := map[string]bool{}
	check := func(op, name, want string, text []byte) error {
		n := strings.ToLower(strings.TrimPrefix(name, "$"))
		covered[n] = true
		got := values[n]
		ok := op == "eq" && got == want || op == "starts-with" && strings.HasPrefix(got, want)
		if n == "content-type" && op == "starts-with" && !ok {
			// A Content-Type condition applies to each listed type.
			ok = true
			for _, ct := range strings.Split(got, ",") {
				ok = ok && strings.HasPrefix(strings.TrimSpace(ct), want)
			}
		}
		if !ok {
			return policyDenied("Policy Condition failed: " + string(text))
		}
		return nil
	}
	for _, c := range conds {
		var obj map[string]string
		if json.Unmarshal(c, &obj) == nil {
			if len(obj) == 0 {
				return nil, rng, invalidPolicy("Invalid Condition: " + string(c))
			}
			for k, v := range obj {
				if err := check("eq", k, v, c); err != nil {
					return nil, rng, err
				}
			}
			continue
		}
		var list []json.RawMessage
		if json.Unmarshal(c, &list) != nil || len(list) != 3 {
			return nil, rng, invalidPolicy("Invalid Condition: " + string(c))
		}
		var op string
		if json.Unmarshal(list[0], &op) != nil {
			return nil, rng, invalidPolicy("Invalid Condition: " + string(c))
		}
		switch strings.ToLower(op) {
		case "content-length-range":
			var lo, hi int64
			if json.Unmarshal(list[1], &lo) != nil || json.Unmarshal(list[2], &hi) != nil {
				// S3 also takes the bounds as strings of digits.
				var a, b string
				if json.Unmarshal(list[1], &a) != nil || json.Unmarshal(list[2], &b) != nil {
					return nil, rng, invalidPolicy("Invalid content-length-range: " + string(c))
				}
				var e1, e2 error
				lo, e1 = strconv.ParseInt(a, 10, 64)
				hi, e2 = strconv.ParseInt(b, 10, 64)
				if e1 != nil || e2 != nil {
					return nil, rng, invalidPolicy("Invalid content-length-range: " + string(c))
				}
			}
			if lo < 0 || hi < lo {
				return nil, rng, invalidPolicy("Invalid content-length-range: " + string(c))
			}
			rng = [2]int64{lo, hi}
		case "eq", "starts-with":
			// Operators and field names match without regard to case; the
			// document's own keys (expiration, conditions) do not.
			op = strings.ToLower(op)
			var name, want string
			if json.Unmarshal(list[1], &name) != nil || json.Unmarshal(list[2], &want) != nil || !strings.HasPrefix(name, "$") {
				return nil, rng, invalidPolicy("Invalid Condition: " + string(c))
			}
			if err := check(op, name, want, c); err != nil {
				return nil, rng, err
			}
		default:
			return nil, rng, invalidPolicy("Invalid Condition: " + string(c))
		}
	}
	return covered, rng, nil
}

// taggingHeader turns a form's Tagging document into x-amz-tagging.
func taggingHeader(doc string) (string, error) {
	var t struct {
		Tags []struct {
			Key   string `xml:"Key"`
			Value string `xml:"Value"`
		} `xml:"TagSet>Tag"`
	}
	if err := xml.Unmarshal([]byte(doc), &t); err != nil {
		return "", malformedXML()
	}
	q := url.Values{}
	for _, tag := range t.Tags {
		q.Add(tag.Key, tag.Value)
	}
	return q.Encode(), nil
}

// lengthChecked enforces a policy's content-length-range on the file.
type lengthChecked struct {
	r        io.Reader
	n        int64
	min, max int64 // max < 0: no range
}

func (l *lengthChecked) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.max >= 0 && l.n > l.max {
		return n, postError("EntityTooLarge", http.StatusBadRequest, "Your proposed upload exceeds the maximum allowed size")
	}
	if errors.Is(err, io.EOF) && l.max >= 0 && l.n < l.min {
		return n, postError("EntityTooSmall", http.StatusBadRequest, "Your proposed upload is smaller than the minimum allowed size")
	}
	return n, err
}

// writePostAnswer answers a POST upload that stored its object.
func writePostAnswer(w http.ResponseWriter, r *http.Request, up *postUpload) {
	h := w.Header()
	etag := h.Get("ETag")
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	location := scheme + "://" + r.Host + "/" + up.bucket + "/" + escapeKey(up.key)
	if up.redirect != "" {
		if u, err := url.Parse(up.redirect); err == nil {
			// bucket, key and etag, in that order, after the form's own query.
			q := "bucket=" + url.QueryEscape(up.bucket) + "&key=" + url.QueryEscape(up.key) + "&etag=" + url.QueryEscape(etag)
			if u.RawQuery != "" {
				q = u.RawQuery + "&" + q
			}
			u.RawQuery = q
			h.Set("Location", u.String())
			w.WriteHeader(http.StatusSeeOther)
			return
		}
	}
	h.Set("Location", location)
	if up.status != http.StatusCreated {
		w.WriteHeader(up.status)
		return
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<PostResponse>")
	for _, kv := range [][2]string{{"Location", location}, {"Bucket", up.bucket}, {"Key", up.key}, {"ETag", etag}} {
		b.WriteString("<" + kv[0] + ">")
		_ = xml.EscapeText(&b, []byte(kv[1]))
		b.WriteString("</" + kv[0] + ">")
	}
	b.WriteString("</PostResponse>")
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", fmt.Sprint(b.Len()))
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(b.Bytes())
}

func escapeKey(k string) string {
	parts := strings.Split(k, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}
