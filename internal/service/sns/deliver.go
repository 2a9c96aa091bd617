package sns

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"net/smtp"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/wharf-dev/wharf/internal/store"
)

// delivery is one message for an HTTP/HTTPS endpoint or an email address,
// kept in the outbox until it is delivered or its retries are spent.
type delivery struct {
	Seq       uint64
	Due       int64  // unix ms of the next attempt
	Type      string // Notification or SubscriptionConfirmation
	SubARN    string
	TopicARN  string
	MessageID string
	Protocol  string
	Endpoint  string
	Body      string
	Subject   string `json:",omitempty"` // email
	From      string `json:",omitempty"` // email display name
	Raw       bool   `json:",omitempty"`
	Attempts  int    `json:",omitempty"`
	Policy    retryPolicy
}

const outboxPrefix = "sns/o/"

func outboxKey(due int64, seq uint64) []byte {
	k := binary.BigEndian.AppendUint64([]byte(outboxPrefix), uint64(due))
	return binary.BigEndian.AppendUint64(k, seq)
}

// enqueue puts d in the outbox, due now unless d.Due is set.
func (s *Service) enqueue(tx store.Tx, d *delivery) error {
	if d.Seq == 0 {
		d.Seq = s.nextSeq()
	}
	if d.Due == 0 {
		d.Due = s.clock.Now().UnixMilli()
	}
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return tx.Put(outboxKey(d.Due, d.Seq), b)
}

// kick wakes Run to look at the outbox.
func (s *Service) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// retryPolicy is a delivery policy's healthyRetryPolicy (Amazon SNS message
// delivery retries): delays in seconds.
type retryPolicy struct {
	MinDelayTarget     int    `json:"minDelayTarget"`
	MaxDelayTarget     int    `json:"maxDelayTarget"`
	NumRetries         int    `json:"numRetries"`
	NumNoDelayRetries  int    `json:"numNoDelayRetries"`
	NumMinDelayRetries int    `json:"numMinDelayRetries"`
	NumMaxDelayRetries int    `json:"numMaxDelayRetries"`
	BackoffFunction    string `json:"backoffFunction"`
}

// defaultRetry is AWS's default for HTTP/S: three retries 20 seconds apart.
var defaultRetry = retryPolicy{MinDelayTarget: 20, MaxDelayTarget: 20, NumRetries: 3, BackoffFunction: "linear"}

// maxRetries bounds any policy, so that no delivery stays in the outbox forever.
const maxRetries = 100

// policyFor is the retry policy of sub: its own DeliveryPolicy, else the
// topic's default for HTTP, else AWS's default.
func policyFor(t *topic, sub *subscription) retryPolicy {
	p := defaultRetry
	if raw := t.Attrs["DeliveryPolicy"]; raw != "" {
		var tp struct {
			HTTP struct {
				DefaultHealthyRetryPolicy *retryPolicy `json:"defaultHealthyRetryPolicy"`
			} `json:"http"`
		}
		if json.Unmarshal([]byte(raw), &tp) == nil && tp.HTTP.DefaultHealthyRetryPolicy != nil {
			p = *tp.HTTP.DefaultHealthyRetryPolicy
		}
	}
	if raw := sub.Attrs["DeliveryPolicy"]; raw != "" {
		var sp struct {
			HealthyRetryPolicy *retryPolicy `json:"healthyRetryPolicy"`
		}
		if json.Unmarshal([]byte(raw), &sp) == nil && sp.HealthyRetryPolicy != nil {
			p = *sp.HealthyRetryPolicy
		}
	}
	p.NumRetries = min(max(p.NumRetries, 0), maxRetries)
	p.MinDelayTarget = max(p.MinDelayTarget, 0)
	p.MaxDelayTarget = max(p.MaxDelayTarget, p.MinDelayTarget)
	return p
}

// delay is the wait before retry n (1 for the first retry): the no-delay
// retries, then the minimum-delay ones, then the backoff phase from the
// minimum to the maximum delay, then the maximum-delay ones.
func (p retryPolicy) delay(n int) time.Duration {
	sec := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
	if n <= p.NumNoDelayRetries {
		return 0
	}
	n -= p.NumNoDelayRetries
	if n <= p.NumMinDelayRetries {
		return sec(float64(p.MinDelayTarget))
	}
	n -= p.NumMinDelayRetries
	backoff := p.NumRetries - p.NumNoDelayRetries - p.NumMinDelayRetries - p.NumMaxDelayRetries
	if n > backoff || backoff <= 0 {
		return sec(float64(p.MaxDelayTarget))
	}
	lo, hi := float64(p.MinDelayTarget), float64(p.MaxDelayTarget)
	frac := float64(n) / float64(backoff)
	switch p.BackoffFunction {
	case "exponential", "geometric":
		if lo < 1 {
			lo = 1
		}
		return sec(lo * math.Pow(hi/lo, frac))
	default: // linear, arithmetic
		return sec(lo + (hi-lo)*frac)
	}
}

// notificationDelivery is n for an HTTP or email subscriber.
func (s *Service) notificationDelivery(n *notification, sub *subscription) *delivery {
	d := &delivery{
		Type: "Notification", SubARN: sub.ARN, TopicARN: n.topic.ARN, MessageID: n.id,
		Protocol: sub.Protocol, Endpoint: sub.Endpoint, Raw: sub.raw(), Policy: policyFor(n.topic, sub),
	}
	switch {
	case sub.Protocol == "email":
		d.Subject = n.entry.Subject
		if d.Subject == "" {
			d.Subject = "AWS Notification Message"
		}
		d.From = n.topic.Attrs["DisplayName"]
		d.Body = n.entry.bodyFor("email") + "\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:\n" +
			unsubscribeURL(n.host, sub.ARN) + "\n\nPlease do not reply directly to this email. If you have any questions or comments regarding this email, please contact us at https://aws.amazon.com/support\n"
	case sub.Protocol == "email-json":
		d.Subject = "AWS Notification Message"
		d.From = n.topic.Attrs["DisplayName"]
		d.Body = n.envelope(sub, "email-json")
	case sub.raw():
		d.Body = n.entry.bodyFor(sub.Protocol)
	default:
		d.Body = n.envelope(sub, sub.Protocol)
	}
	return d
}

// confirmation is the SubscriptionConfirmation message of a new subscription.
func (s *Service) confirmation(t *topic, sub *subscription, host string, now time.Time) *delivery {
	subscribeURL := "http://" + host + "/?Action=ConfirmSubscription&TopicArn=" + url.QueryEscape(t.ARN) + "&Token=" + sub.Token
	id := s.newID()
	d := &delivery{
		Type: "SubscriptionConfirmation", SubARN: sub.ARN, TopicARN: t.ARN, MessageID: id,
		Protocol: sub.Protocol, Endpoint: sub.Endpoint, Policy: policyFor(t, sub),
	}
	if sub.Protocol == "email" {
		d.Subject = "AWS Notification - Subscription Confirmation"
		d.From = t.Attrs["DisplayName"]
		d.Body = "You have chosen to subscribe to the topic: \n" + t.ARN +
			"\n\nTo confirm this subscription, click or visit the link below (If this was in error no action is necessary): \nConfirm subscription:\n" + subscribeURL + "\n"
		return d
	}
	en := envelope{
		Type: "SubscriptionConfirmation", MessageID: id, Token: sub.Token, TopicArn: t.ARN,
		Message:      "You have chosen to subscribe to the topic " + t.ARN + ".\nTo confirm the subscription, visit the SubscribeURL included in this message.",
		SubscribeURL: subscribeURL, Timestamp: now.UTC().Format(timestampFormat),
	}
	en.sign(t.Attrs["SignatureVersion"], t.Region)
	d.Body = en.encode()
	if sub.Protocol == "email-json" {
		d.Subject = "AWS Notification - Subscription Confirmation"
		d.From = t.Attrs["DisplayName"]
	}
	return d
}

// Run delivers the outbox until ctx is cancelled: due deliveries run
// concurrently (at most Options.Workers at once), failures are retried per
// their delivery policy, and deliveries left by a previous run resume.
func (s *Service) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	lastSweep := s.clock.Now()
	for {
		if now := s.clock.Now(); now.Sub(lastSweep) >= time.Minute {
			lastSweep = now
			if err := s.sweepDedup(now); err != nil && !errors.Is(err, store.ErrClosed) {
				s.log.Error("sns: sweep deduplication records", "err", err)
			}
		}
		next := s.dispatch(ctx, &wg)
		wait := time.Minute
		if next > 0 {
			wait = min(wait, max(0, time.Duration(next-s.clock.Now().UnixMilli())*time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-s.clock.After(wait):
		}
	}
}

// sweepDedup deletes the FIFO deduplication records past their interval.
// Publish ignores expired records anyway; the sweep bounds their space.
func (s *Service) sweepDedup(now time.Time) error {
	var expired [][]byte
	err := s.st.View(func(tx store.Tx) error {
		return tx.Scan([]byte("sns/dd/"), nil, func(k, v []byte) (bool, error) {
			var rec dedupRecord
			if json.Unmarshal(v, &rec) != nil || rec.Expires <= now.UnixMilli() {
				expired = append(expired, bytes.Clone(k))
			}
			return true, nil
		})
	})
	if err != nil || len(expired) == 0 {
		return err
	}
	return s.st.Update(func(tx store.Tx) error {
		for _, k := range expired {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// dispatch starts the due deliveries that are not already running and
// returns when the next one not yet due is due (unix ms), or 0.
func (s *Service) dispatch(ctx context.Context, wg *sync.WaitGroup) int64 {
	now := s.clock.Now().UnixMilli()
	var due []*delivery
	var next int64
	err := s.st.View(func(tx store.Tx) error {
		return tx.Scan([]byte(outboxPrefix), nil, func(k, v []byte) (bool, error) {
			d := &delivery{}
			if err := json.Unmarshal(v, d); err != nil {
				return false, fmt.Errorf("decode delivery: %w", err)
			}
			if d.Due > now {
				next = d.Due
				return false, nil
			}
			s.flightMu.Lock()
			busy := s.inFlight[string(k)]
			s.flightMu.Unlock()
			if !busy {
				due = append(due, d)
			}
			return len(due) < 256, nil
		})
	})
	if err != nil {
		if !errors.Is(err, store.ErrClosed) {
			s.log.Error("sns: read outbox", "err", err)
		}
		return now + time.Second.Milliseconds()
	}
	for _, d := range due {
		key := string(outboxKey(d.Due, d.Seq))
		select {
		case s.sem <- struct{}{}:
		case <-ctx.Done():
			return 0
		}
		s.flightMu.Lock()
		s.inFlight[key] = true
		s.flightMu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-s.sem }()
			s.attempt(ctx, d)
			s.flightMu.Lock()
			delete(s.inFlight, key)
			s.flightMu.Unlock()
			s.kick()
		}()
	}
	if len(due) == 256 {
		return now // more are due
	}
	return next
}

// errPermanent marks a failure that retrying cannot fix.
var errPermanent = errors.New("permanent failure")

// attempt tries d once and then removes it from the outbox or reschedules it.
func (s *Service) attempt(ctx context.Context, d *delivery) {
	var err error
	switch d.Protocol {
	case "http", "https":
		err = s.post(ctx, d)
	case "email", "email-json":
		err = s.mail(d)
	default:
		err = fmt.Errorf("%w: protocol %s", errPermanent, d.Protocol)
	}
	if ctx.Err() != nil && err != nil {
		return // shutting down: the delivery stays due and runs after restart
	}
	old := outboxKey(d.Due, d.Seq)
	retry := err != nil && !errors.Is(err, errPermanent) && d.Attempts < d.Policy.NumRetries
	note := ""
	if err != nil {
		note = fmt.Sprintf(" (attempt %d, final)", d.Attempts+1)
		if retry {
			note = fmt.Sprintf(" (attempt %d, will retry)", d.Attempts+1)
		}
	}
	s.delivered(ctx, d.MessageID, d.SubARN, d.Endpoint, err, note, retry)
	if err != nil && !retry {
		if rerr := s.redriveDelivery(ctx, d); rerr != nil {
			s.log.Error("sns: move to dead-letter queue", "subscription", d.SubARN, "message_id", d.MessageID, "err", rerr)
		}
	}
	uerr := s.st.Update(func(tx store.Tx) error {
		// Gone meanwhile: a reset (POST /_wharf/reset) deleted it while it
		// was being tried, and a retry put back now would outlive the
		// reset, sending its endpoint what was published before it.
		if v, err := tx.Get(old); err != nil || v == nil {
			return err
		}
		if err := tx.Delete(old); err != nil {
			return err
		}
		if !retry {
			return nil
		}
		d.Attempts++
		d.Due = s.clock.Now().Add(d.Policy.delay(d.Attempts)).UnixMilli()
		return s.enqueue(tx, d)
	})
	if uerr != nil && !errors.Is(uerr, store.ErrClosed) {
		s.log.Error("sns: update outbox", "err", uerr)
	}
}

// post delivers d to an HTTP/HTTPS endpoint with SNS's headers. A 2xx answer
// is success; 429, 5xx and network errors are retried; other answers are final.
func (s *Service) post(ctx context.Context, d *delivery) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Endpoint, strings.NewReader(d.Body))
	if err != nil {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	h := req.Header
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("User-Agent", "Amazon Simple Notification Service Agent")
	h.Set("x-amz-sns-message-type", d.Type)
	h.Set("x-amz-sns-message-id", d.MessageID)
	h.Set("x-amz-sns-topic-arn", d.TopicARN)
	if d.Type == "Notification" {
		h.Set("x-amz-sns-subscription-arn", d.SubARN)
	}
	if d.Raw {
		h.Set("x-amz-sns-rawdelivery", "true")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("endpoint answered %s", resp.Status)
	}
	return fmt.Errorf("%w: endpoint answered %s", errPermanent, resp.Status)
}

// mail sends d over SMTP to Options.SMTPAddr; without one, email is logged
// and dropped.
func (s *Service) mail(d *delivery) error {
	if s.smtpAddr == "" {
		s.log.Info("sns: email not sent: no --smtp-addr", "to", d.Endpoint, "subject", d.Subject, "message_id", d.MessageID)
		return nil
	}
	from := "no-reply@sns.amazonaws.com"
	name := d.From
	if name == "" {
		name = "AWS Notifications"
	}
	ctype := "text/plain; charset=UTF-8"
	if d.Protocol == "email-json" {
		ctype = "application/json; charset=UTF-8"
	}
	msg := "From: " + mime.QEncoding.Encode("utf-8", name) + " <" + from + ">\r\n" +
		"To: " + d.Endpoint + "\r\n" +
		"Subject: " + mime.QEncoding.Encode("utf-8", d.Subject) + "\r\n" +
		"Date: " + s.clock.Now().UTC().Format(time.RFC1123Z) + "\r\n" +
		"Message-ID: <" + d.MessageID + "@sns.amazonaws.com>\r\n" +
		"x-amz-sns-message-type: " + d.Type + "\r\n" +
		"x-amz-sns-message-id: " + d.MessageID + "\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: " + ctype + "\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
		strings.ReplaceAll(strings.ReplaceAll(d.Body, "\r\n", "\n"), "\n", "\r\n")
	return smtp.SendMail(s.smtpAddr, nil, from, []string{d.Endpoint}, []byte(msg))
}
