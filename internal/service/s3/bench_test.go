package s3_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wharf-dev/wharf/internal/store"
)

// BenchmarkPut1KiBDurable is bench/s3's small PUT in one process, on a disk
// store, for profiling the server side: go test -bench Put1KiB -cpuprofile.
func BenchmarkPut1KiBDurable(b *testing.B) {
	dir := b.TempDir()
	st, err := store.Open(filepath.Join(dir, "store"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	e := newEnvWith(b, st, filepath.Join(dir, "s3"))
	bucket := e.bucket(b, "bench")
	body := bytes.Repeat([]byte("x"), 1024)
	var n atomic.Int64
	b.SetParallelism(4) // 8 clients on 2 CPUs, as bench/s3 drives
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(fmt.Sprintf("small/%d", i%1000)), Body: bytes.NewReader(body)}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkGet1KiB is bench/s3's small GET in one process.
func BenchmarkGet1KiB(b *testing.B) {
	dir := b.TempDir()
	st, err := store.Open(filepath.Join(dir, "store"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	e := newEnvWith(b, st, filepath.Join(dir, "s3"))
	bucket := e.bucket(b, "bench")
	body := bytes.Repeat([]byte("x"), 1024)
	for i := 0; i < 10; i++ {
		if _, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(fmt.Sprintf("small/%d", i)), Body: bytes.NewReader(body)}); err != nil {
			b.Fatal(err)
		}
	}
	var n atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			out, err := e.client.GetObject(ctx(), &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(fmt.Sprintf("small/%d", i%10))})
			if err != nil {
				b.Error(err)
				return
			}
			out.Body.Close()
		}
	})
}
