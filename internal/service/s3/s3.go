// Package s3 is wharf's Amazon S3: buckets, objects, multipart uploads,
// versioning, tagging, bucket configurations, and event notifications to
// EventBridge (through the event bus), SQS and SNS (through a Notifier).
//
// # Storage
//
// Object bytes live in files under the data directory, named by a random id,
// never by the object key, so no key can reach outside the directory. A write
// streams the body into a temporary file (hashing it on the way), fsyncs it,
// renames it into place, and only then commits the object's metadata to the
// store; the response is sent after the commit. A blob no longer referenced
// (an overwritten object) is removed after the commit that dropped it.
//
// # Key layout
//
// Bucket names are global, as in AWS; keys and upload ids are under the bucket:
//
//	s3/b/<bucket>                          bucket (JSON)
//	s3/a/<account>/<bucket>                the account's bucket list (empty value)
//	s3/o/<bucket>/<key>                    current version of an object (JSON)
//	s3/v/<bucket>/<key>\x00<^seq>          every version, newest first, once the
//	                                       bucket has had versioning enabled
//	s3/u/<bucket>/<key>\x00<upload id>     multipart upload in progress (JSON)
//	s3/p/<upload id>/<part number>         uploaded part (JSON)
//	s3/d/<blob id>                         the bytes of a small object or part
//
// Objects of up to 64 KiB keep their bytes in the store (s3/d/), written in
// the same transaction as their metadata: one group-committed fsync per PUT
// instead of a file's three (file, directory, store), which is what makes
// small PUTs fast. Larger objects spill to files after their first 64 KiB,
// so memory per request stays bounded whatever the object's size.
package s3

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/eventbus"
	"github.com/wharf-dev/wharf/internal/store"
)

// Notifier delivers S3 event notifications to SQS queues and SNS topics. SQS
// and SNS implement it; a nil Notifier drops queue and topic notifications.
type Notifier interface {
	SendToQueue(ctx context.Context, queueARN, body string) error
	PublishToTopic(ctx context.Context, topicARN, subject, body string) error
}

// Options configure a Service.
type Options struct {
	Store store.Store
	// Dir is where object bytes are kept. It is created if missing.
	Dir string
	// NoSync skips fsync of object files, for ephemeral data directories whose
	// contents die with the process anyway.
	NoSync bool
	// Bus receives Object Created / Object Deleted events for buckets with
	// EventBridge notifications enabled. nil drops them.
	Bus *eventbus.Bus
	// Notifier receives notifications for queue and topic configurations.
	Notifier Notifier
	// Clock is the time the service reads; nil means clock.Real.
	Clock clock.Clock
	// Random fills ids; nil means crypto/rand.
	Random func([]byte)
	// Logger defaults to slog.Default.
	Logger *slog.Logger
	// Region is the region of requests that name none.
	Region string
}

// Service implements the S3 operations.
type Service struct {
	st       store.Store
	blobs    *blobs
	bus      *eventbus.Bus
	notifier Notifier
	now      func() time.Time
	random   func([]byte)
	log      *slog.Logger
	region   string

	mu      sync.Mutex
	lastSeq uint64

	tl Timeline // nil records nothing
}

// New returns a Service over opts.Store and opts.Dir.
func New(opts Options) (*Service, error) {
	b, err := openBlobs(opts.Dir, !opts.NoSync)
	if err != nil {
		return nil, err
	}
	b.space, _ = opts.Store.(store.Space)
	s := &Service{
		st:       opts.Store,
		blobs:    b,
		bus:      opts.Bus,
		notifier: opts.Notifier,
		now:      clock.Or(opts.Clock).Now,
		random:   opts.Random,
		log:      opts.Logger,
		region:   opts.Region,
	}
	if s.random == nil {
		s.random = func(b []byte) { _, _ = rand.Read(b) }
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.region == "" {
		s.region = "us-east-1"
	}
	return s, nil
}

// nextSeq returns a number larger than any returned before, close to the
// current time in nanoseconds, so that it also orders writes across restarts.
// It orders versions and is the event sequencer.
func (s *Service) nextSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := uint64(s.now().UnixNano())
	if n <= s.lastSeq {
		n = s.lastSeq + 1
	}
	s.lastSeq = n
	return n
}

func (s *Service) randomHex(n int) string {
	b := make([]byte, n)
	s.random(b)
	return hex.EncodeToString(b)
}

// versionID returns a new version id: 32 URL-safe characters, as S3's are.
// The sequence prefix keeps ids of one key in creation order when sorted.
func (s *Service) versionID(seq uint64) string {
	return fmt.Sprintf("%016x", seq) + s.randomHex(8)
}

// nowMillis is the clock truncated to the millisecond, the precision S3
// reports LastModified with (and the HTTP date format then drops).
func (s *Service) nowMillis() time.Time {
	return s.now().UTC().Truncate(time.Millisecond)
}

func caller(ctx context.Context) *awsapi.Caller { return awsapi.CallerFrom(ctx) }

func (s *Service) regionOf(ctx context.Context) string {
	if r := caller(ctx).Region; r != "" {
		return r
	}
	return s.region
}

// Keys.

func bucketKey(b string) []byte              { return []byte("s3/b/" + b) }
func accountBucketKey(acct, b string) []byte { return []byte("s3/a/" + acct + "/" + b) }
func accountPrefix(acct string) []byte       { return []byte("s3/a/" + acct + "/") }
func objectPrefix(b string) []byte           { return []byte("s3/o/" + b + "/") }
func objectKey(b, k string) []byte           { return []byte("s3/o/" + b + "/" + k) }
func versionPrefix(b string) []byte          { return []byte("s3/v/" + b + "/") }
func versionKeyPrefix(b, k string) []byte    { return []byte("s3/v/" + b + "/" + k + "\x00") }
func uploadPrefix(b string) []byte           { return []byte("s3/u/" + b + "/") }
func uploadKey(b, k, id string) []byte       { return []byte("s3/u/" + b + "/" + k + "\x00" + id) }
func partPrefix(id string) []byte            { return []byte("s3/p/" + id + "/") }
func partKey(id string, n int32) []byte      { return fmt.Appendf(nil, "s3/p/%s/%05d", id, n) }
func dataKey(blob string) []byte             { return []byte("s3/d/" + blob) }

// versionKey sorts a key's versions newest first: seq is inverted.
func versionKey(b, k string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(versionKeyPrefix(b, k), ^seq)
}

// Errors, in S3's words (Error Responses in the S3 API reference).

func noSuchBucket(b string) error {
	return s3api.ErrNoSuchBucket("The specified bucket does not exist").WithFields(map[string]any{"BucketName": b})
}

func noSuchKey(k string) error {
	return s3api.ErrNoSuchKey("The specified key does not exist.").WithFields(map[string]any{"Key": k})
}

func noSuchVersion(k, v string) error {
	return s3api.ErrNoSuchVersion("The specified version does not exist.").WithFields(map[string]any{"Key": k, "VersionId": v})
}

func noSuchUpload(id string) error {
	return s3api.ErrNoSuchUpload("The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.").WithFields(map[string]any{"UploadId": id})
}

func invalidArgument(msg, name, value string) error {
	return s3api.ErrInvalidArgument("%s", msg).WithFields(map[string]any{"ArgumentName": name, "ArgumentValue": value})
}

func invalidRequest(msg string) error {
	return s3api.ErrInvalidRequest("%s", msg)
}

func preconditionFailed(cond string) error {
	return s3api.ErrPreconditionFailed("At least one of the pre-conditions you specified did not hold").WithFields(map[string]any{"Condition": cond})
}

func notModified() error {
	return s3api.ErrNotModified("Not Modified")
}

func accessDenied() error {
	return s3api.ErrAccessDenied("Access Denied")
}

func malformedXML() error {
	return s3api.ErrMalformedXML("The XML you provided was not well-formed or did not validate against our published schema")
}

func bucketARN(b string) string { return "arn:aws:s3:::" + b }
