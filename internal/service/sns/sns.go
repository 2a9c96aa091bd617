// Package sns is wharf's Amazon SNS: topics (standard and FIFO), subscriptions
// with filter policies, and the fan-out of published messages to SQS queues,
// HTTP/HTTPS endpoints and email addresses (over SMTP).
//
// # Delivery
//
// A Publish delivers to SQS subscribers before it returns, through the
// QueueSender the SQS service provides, so an acknowledged publish is in every
// subscribed queue. Deliveries to HTTP/HTTPS endpoints and email addresses
// (and subscription confirmations) go to a durable outbox in the store, written
// before Publish returns; Run delivers them with retries, and resumes them
// after a restart. A notification that cannot be delivered (a queue that is
// gone or refuses SNS, an endpoint that refuses it or whose retries are
// spent) goes to the subscription's dead-letter queue, the SQS queue its
// RedrivePolicy names, if it has one.
//
// # Key layout
//
//	sns/t/<account>/<region>/<name>     topic (JSON)
//	sns/s/<topic ARN>/<id>              subscription (JSON); its ARN is <topic ARN>:<id>
//	sns/k/<token>                       confirmation token → subscription ARN
//	sns/o/<due><seq>                    outbox: one pending HTTP or email delivery
//	sns/dd/<topic ARN>/<id>             FIFO deduplication record
//	sns/sms/<account>/<region>/<id>     a message published to a phone number (recorded, not sent)
package sns

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	snsapi "github.com/wharf-dev/wharf/internal/awsapi/sns"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/store"
)

// QueueSender delivers messages to SQS queues named by their ARNs. The SQS
// service implements it.
type QueueSender interface {
	// DeliverToQueues stores each message in its queue, durably before it
	// returns, and returns each one's error (nil: stored); one message's
	// failure does not stop the others.
	DeliverToQueues(ctx context.Context, msgs []QueueMessage) []error
}

// QueueMessage is one message for an SQS queue.
type QueueMessage struct {
	QueueARN string
	Body     string
	Attrs    map[string]sqsapi.MessageAttributeValue
	// GroupID and DedupID are a FIFO queue's message group and
	// deduplication ids.
	GroupID, DedupID string
}

// Options configure a Service.
type Options struct {
	Store store.Store
	// Clock is the time the service reads; nil means clock.Real.
	Clock clock.Clock
	// Random fills ids and tokens; defaults to crypto/rand.
	Random func([]byte)
	// Logger defaults to slog.Default.
	Logger *slog.Logger
	// DefaultHost is used in SubscribeURL and UnsubscribeURL when the request
	// carries no Host (publishes from other services).
	DefaultHost string
	// SMTPAddr is the host:port of the SMTP server email subscriptions are
	// delivered through. Empty means email is not sent, only logged.
	SMTPAddr string
	// HTTPClient delivers to HTTP/HTTPS subscribers; defaults to a client with
	// AWS's 15-second delivery timeout.
	HTTPClient *http.Client
	// Workers bounds the concurrent HTTP and email deliveries; default 16.
	Workers int
}

// Service implements the SNS operations.
type Service struct {
	tl       Timeline // nil records nothing
	metrics  snsMetrics
	st       store.Store
	clock    clock.Clock
	random   func([]byte)
	log      *slog.Logger
	host     string
	smtpAddr string
	client   *http.Client
	queues   QueueSender

	// cache of topics and their subscriptions, for Publish: gen counts the
	// writes so that a view read before a write is never cached after it.
	cacheMu sync.Mutex
	gen     uint64
	views   map[string]*topicView

	fifoMu   sync.Mutex
	fifoLock map[string]*sync.Mutex // topic ARN → publishes in order

	seqMu   sync.Mutex
	lastSeq uint64

	// outbox worker
	wake     chan struct{}
	sem      chan struct{}
	flightMu sync.Mutex
	inFlight map[string]bool
}

// New returns a Service over opts.Store.
func New(opts Options) *Service {
	s := &Service{
		st: opts.Store, clock: opts.Clock, random: opts.Random, log: opts.Logger,
		host: opts.DefaultHost, smtpAddr: opts.SMTPAddr, client: opts.HTTPClient,
		views: map[string]*topicView{}, fifoLock: map[string]*sync.Mutex{},
		wake: make(chan struct{}, 1), inFlight: map[string]bool{},
	}
	if s.clock == nil {
		s.clock = clock.Real
	}
	if s.random == nil {
		s.random = func(b []byte) { _, _ = rand.Read(b) }
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.host == "" {
		s.host = "localhost:4566"
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: 15 * time.Second}
	}
	w := opts.Workers
	if w <= 0 {
		w = 16
	}
	s.sem = make(chan struct{}, w)
	return s
}

// SetQueueSender connects SQS, the destination of sqs subscriptions. Until it
// is set, deliveries to queues are dropped and logged.
func (s *Service) SetQueueSender(q QueueSender) { s.queues = q }

// newID returns a random UUID (version 4), the format of SNS message and
// subscription ids.
func (s *Service) newID() string {
	var b [16]byte
	s.random(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (s *Service) randomHex(n int) string {
	b := make([]byte, n)
	s.random(b)
	return hex.EncodeToString(b)
}

// nextSeq returns a number larger than any returned before, close to the
// current time in nanoseconds, so it also orders across restarts.
func (s *Service) nextSeq() uint64 {
	s.seqMu.Lock()
	defer s.seqMu.Unlock()
	n := uint64(s.clock.Now().UnixNano())
	if n <= s.lastSeq {
		n = s.lastSeq + 1
	}
	s.lastSeq = n
	return n
}

// hostOf is the host clients reach wharf at, for the URLs in messages.
func (s *Service) hostOf(ctx context.Context) string {
	if h := awsapi.CallerFrom(ctx).Host; h != "" {
		return h
	}
	return s.host
}

// ARNs.

func topicARN(region, account, name string) string {
	return "arn:aws:sns:" + region + ":" + account + ":" + name
}

// parseTopicARN returns the parts of a topic ARN.
func parseTopicARN(arn string) (region, account, name string, ok bool) {
	p := strings.Split(arn, ":")
	if len(p) != 6 || p[0] != "arn" || p[2] != "sns" || p[3] == "" || p[4] == "" || p[5] == "" {
		return "", "", "", false
	}
	return p[3], p[4], p[5], true
}

// parseSubscriptionARN returns the topic ARN and id of a subscription ARN
// (<topic ARN>:<id>).
func parseSubscriptionARN(arn string) (topic, id string, ok bool) {
	i := strings.LastIndexByte(arn, ':')
	if i < 0 {
		return "", "", false
	}
	topic, id = arn[:i], arn[i+1:]
	if _, _, _, ok := parseTopicARN(topic); !ok || id == "" {
		return "", "", false
	}
	return topic, id, true
}

// Keys.

func topicKey(account, region, name string) []byte {
	return []byte("sns/t/" + account + "/" + region + "/" + name)
}

func topicPrefix(account, region string) []byte {
	return []byte("sns/t/" + account + "/" + region + "/")
}

func topicKeyOfARN(arn string) ([]byte, bool) {
	region, account, name, ok := parseTopicARN(arn)
	if !ok {
		return nil, false
	}
	return topicKey(account, region, name), true
}

func subPrefix(topicARN string) []byte { return []byte("sns/s/" + topicARN + ":") }

// subKey is the key of subscription ARN sub: the topic ARN's subscriptions are
// the keys with prefix subPrefix(topic).
func subKey(subARN string) []byte { return []byte("sns/s/" + subARN) }

func tokenKey(token string) []byte { return []byte("sns/k/" + token) }

func dedupKey(topicARN, id string) []byte { return []byte("sns/dd/" + topicARN + "/" + id) }

// Errors, with AWS's messages.

func errInvalidParameter(format string, args ...any) error {
	return snsapi.ErrInvalidParameterException("Invalid parameter: %s", fmt.Sprintf(format, args...))
}

func errTopicNotFound() error {
	return snsapi.ErrNotFoundException("Topic does not exist")
}

func errSubscriptionNotFound() error {
	return snsapi.ErrNotFoundException("Subscription does not exist")
}

func errResourceNotFound() error {
	return snsapi.ErrResourceNotFoundException("Resource does not exist")
}

// errBadARN is AWS's answer to a malformed ARN in parameter param.
func errBadARN(param, arn string) error {
	if n := len(strings.Split(arn, ":")); n < 6 {
		return errInvalidParameter("%s Reason: An ARN must have at least 6 elements, not %d", param, n)
	}
	return errInvalidParameter("%s", param)
}

// errBadSubscriptionARN is AWS's answer to a SubscriptionArn that is not one:
// an ARN of six elements, a topic's, lacks the subscription id (SNS's
// recorded answers to Unsubscribe).
func errBadSubscriptionARN(arn string) error {
	if arn == "" {
		return errInvalidParameter("SubscriptionArn Reason: no value for required parameter")
	}
	if len(strings.Split(arn, ":")) == 6 {
		return errInvalidParameter("SubscriptionId")
	}
	return errBadARN("SubscriptionArn", arn)
}
