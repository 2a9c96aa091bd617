package pattern

import (
	"fmt"
	"testing"
)

// BenchmarkSetMatch measures the cost of matching one S3 "Object Created" event
// against a bus of n rules, each for a different bucket plus a few rules without
// any exact field. ns/op should stay flat as n grows.
func BenchmarkSetMatch(b *testing.B) {
	for _, n := range []int{1, 100, 10000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			set := benchSet(n)
			ev := []byte(`{"version":"0","id":"17793124-05d4-b198-2fde-7ededc63b103","detail-type":"Object Created","source":"aws.s3","account":"123456789012","time":"2021-11-12T00:00:00Z","region":"us-east-1","resources":["arn:aws:s3:::bucket-7"],"detail":{"version":"0","bucket":{"name":"bucket-7"},"object":{"key":"in/photo.png","size":5,"etag":"b1946ac92492d2347c6235b4d2611184"},"request-id":"N4N7GDK58NMKJ12R","requester":"123456789012","reason":"PutObject"}}`)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				e, err := ParseEvent(ev)
				if err != nil {
					b.Fatal(err)
				}
				if len(set.Match(e)) == 0 {
					b.Fatal("no match")
				}
			}
		})
	}
}

// benchSet builds n rules: n-1 exact bucket rules, one suffix rule (evaluated
// for every event, as it has no exact field to be indexed by).
func benchSet(n int) *Set {
	set := &Set{}
	for i := 0; i < n-1; i++ {
		set.Put(fmt.Sprintf("bucket-%d", i), MustCompile(fmt.Sprintf(
			`{"source":["aws.s3"],"detail-type":["Object Created"],"detail":{"bucket":{"name":["bucket-%d"]},"object":{"key":[{"prefix":"in/"}]}}}`, i)))
	}
	set.Put("png", MustCompile(`{"detail":{"object":{"key":[{"suffix":".png"}]}}}`))
	ev, _ := ParseEvent([]byte(`{}`))
	set.Match(ev) // build the index outside the timed loop
	return set
}

// BenchmarkSetMatchPrefixRules measures matching against n rules that have no
// exact field at all, only a prefix or a suffix on the object key (one per
// tenant's folder or file type): rules the value index cannot anchor. ns/op
// should stay flat as n grows.
func BenchmarkSetMatchPrefixRules(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			set := prefixSet(n)
			ev := []byte(`{"source":"aws.s3","detail":{"bucket":{"name":"uploads"},"object":{"key":"tenant-7/photos/cat.png","size":5}}}`)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				e, err := ParseEvent(ev)
				if err != nil {
					b.Fatal(err)
				}
				if len(set.Match(e)) != 2 {
					b.Fatal("want the tenant-7/ and .png rules")
				}
			}
		})
	}
}

// prefixSet builds n rules: n-1 prefix rules on the object key and one suffix
// rule, none with an exact value.
func prefixSet(n int) *Set {
	set := &Set{}
	for i := 0; i < n-1; i++ {
		set.Put(fmt.Sprintf("tenant-%d", i), MustCompile(fmt.Sprintf(
			`{"detail":{"object":{"key":[{"prefix":"tenant-%d/"}]}}}`, i)))
	}
	set.Put("png", MustCompile(`{"detail":{"object":{"key":[{"suffix":".png"}]}}}`))
	ev, _ := ParseEvent([]byte(`{}`))
	set.Match(ev)
	return set
}
