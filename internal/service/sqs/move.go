package sqs

// Message move tasks (dead-letter queue redrive): StartMessageMoveTask moves a
// dead-letter queue's messages back to the queues they came from, or to one
// destination, in the background; ListMessageMoveTasks and
// CancelMessageMoveTask follow and stop it.
//
// A task lives under its source queue's data prefix, so deleting the
// dead-letter queue deletes its tasks; a running task also has a key in
// sqs/run/, which the mover loop scans, so a restart resumes it:
//
//	sqs/d/<qid>/t/<seq>     a task (JSON), seq grows with start time
//	sqs/run/<qid>/<seq>     present while the task is RUNNING

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/store"
)

// Task statuses (ListMessageMoveTasksResultEntry.Status).
const (
	taskRunning   = "RUNNING"
	taskCompleted = "COMPLETED"
	taskCancelled = "CANCELLED"
	taskFailed    = "FAILED"
)

// moveTask is a message move task as stored.
type moveTask struct {
	ID             string
	Seq            uint64
	QID            string // the source queue's id
	SourceArn      string
	DestinationArn string `json:",omitempty"`
	Rate           int32  `json:",omitempty"` // messages per second; 0 is unlimited
	Status         string
	Moved          int64
	ToMove         int64
	FailureReason  string `json:",omitempty"`
	Started        int64  // unix ms
	LastStep       int64  // unix ms of the last move, for the rate
}

// unlimitedBatch is how many messages an unlimited task moves per transaction.
const unlimitedBatch = 500

func taskPrefix(qid string) []byte { return []byte("sqs/d/" + qid + "/t/") }
func taskKey(qid string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(taskPrefix(qid), seq)
}

var runPrefix = []byte("sqs/run/")

func runKey(qid string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte("sqs/run/"+qid+"/"), seq)
}

// taskHandle is what TaskHandle encodes, as AWS's does: the task id and its
// source queue.
type taskHandle struct {
	TaskID    string `json:"taskId"`
	SourceArn string `json:"sourceArn"`
}

func errMoveResource(param string) error {
	return sqsapi.ErrResourceNotFoundException("The resource that you specified for the %s parameter doesn't exist.", param)
}

// queueByARN loads the queue an ARN names; a malformed ARN or a missing queue
// is ResourceNotFoundException for param.
func (s *Service) queueByARN(tx store.Tx, arn, param string) (*queue, error) {
	region, account, name, ok := parseQueueARN(arn)
	if !ok {
		return nil, errMoveResource(param)
	}
	q, err := s.getQueue(tx, account, region, name)
	if err != nil {
		if apierr.As(err) != nil {
			return nil, errMoveResource(param)
		}
		return nil, err
	}
	return q, nil
}

// isDeadLetterQueue reports whether a queue of dlq's account and region names
// dlq in its RedrivePolicy.
func isDeadLetterQueue(tx store.Tx, dlq *queue) (bool, error) {
	found := false
	arn := dlq.arn()
	err := tx.Scan(queuePrefix(dlq.Account, dlq.Region), nil, func(_, v []byte) (bool, error) {
		var q queue
		if err := json.Unmarshal(v, &q); err != nil {
			return false, err
		}
		if p := q.redrive(); p != nil && p.DeadLetterTargetArn == arn {
			found = true
			return false, nil
		}
		return true, nil
	})
	return found, err
}

// StartMessageMoveTask starts moving a dead-letter queue's messages to their
// source queues, or to DestinationArn.
func (s *Service) StartMessageMoveTask(ctx context.Context, in *sqsapi.StartMessageMoveTaskInput) (*sqsapi.StartMessageMoveTaskOutput, error) {
	src, dst := awsapi.ToString(in.SourceArn), awsapi.ToString(in.DestinationArn)
	if src == "" {
		return nil, errMissingParameter("SourceArn")
	}
	if r := in.MaxNumberOfMessagesPerSecond; r != nil && (*r < 1 || *r > 500) {
		return nil, errInvalidParameter("Value for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: You must enter a number that's between 1 and 500.")
	}
	if dst != "" && dst == src {
		return nil, errInvalidParameter("Value for parameter DestinationArn is invalid. Reason: Source queue arn and destination queue arn cannot be the same.")
	}
	now := s.clock.Now().UnixMilli()
	t := &moveTask{ID: s.newID(), Seq: s.nextSeq(), SourceArn: src, DestinationArn: dst, Rate: awsapi.ToInt32(in.MaxNumberOfMessagesPerSecond),
		Status: taskRunning, Started: now, LastStep: now}
	err := s.st.Update(func(tx store.Tx) error {
		q, err := s.queueByARN(tx, src, "SourceArn")
		if err != nil {
			return err
		}
		ok, err := isDeadLetterQueue(tx, q)
		if err != nil {
			return err
		}
		if !ok {
			return errInvalidParameter("Source queue must be configured as a Dead Letter Queue.")
		}
		if dst != "" {
			d, err := s.queueByARN(tx, dst, "DestinationArn")
			if err != nil {
				return err
			}
			if d.fifo() != q.fifo() {
				return errInvalidParameter("Value for parameter DestinationArn is invalid. Reason: The destination queue must be of the same type as the source queue.")
			}
		}
		running := false
		err = tx.Scan([]byte("sqs/run/"+q.ID+"/"), nil, func(_, _ []byte) (bool, error) {
			running = true
			return false, nil
		})
		if err != nil {
			return err
		}
		if running {
			return errInvalidParameter("There is already a task running. Only one active task is allowed for a source queue arn at a given time.")
		}
		visible, _, _, err := counts(tx, q.ID, now)
		if err != nil {
			return err
		}
		t.QID, t.ToMove = q.ID, int64(visible)
		if err := putTask(tx, t); err != nil {
			return err
		}
		return tx.Put(runKey(q.ID, t.Seq), nil)
	})
	if err != nil {
		return nil, err
	}
	select {
	case s.moveKick <- struct{}{}:
	default:
	}
	h := encodeTaskHandle(t)
	return &sqsapi.StartMessageMoveTaskOutput{TaskHandle: &h}, nil
}

func encodeTaskHandle(t *moveTask) string {
	b, _ := json.Marshal(taskHandle{TaskID: t.ID, SourceArn: t.SourceArn})
	return base64.StdEncoding.EncodeToString(b)
}

func putTask(tx store.Tx, t *moveTask) error {
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return tx.Put(taskKey(t.QID, t.Seq), b)
}

// ListMessageMoveTasks lists the most recent tasks of a source queue, newest first.
func (s *Service) ListMessageMoveTasks(ctx context.Context, in *sqsapi.ListMessageMoveTasksInput) (*sqsapi.ListMessageMoveTasksOutput, error) {
	src := awsapi.ToString(in.SourceArn)
	if src == "" {
		return nil, errMissingParameter("SourceArn")
	}
	max := int32(1)
	if in.MaxResults != nil {
		max = *in.MaxResults
		if max < 1 || max > 10 {
			return nil, errInvalidParameter("Value for parameter MaxResults is invalid. Reason: You must enter a number that's between 1 and 10.")
		}
	}
	out := &sqsapi.ListMessageMoveTasksOutput{Results: []sqsapi.ListMessageMoveTasksResultEntry{}}
	err := s.st.View(func(tx store.Tx) error {
		q, err := s.queueByARN(tx, src, "SourceArn")
		if err != nil {
			return err
		}
		return tx.ScanReverse(taskPrefix(q.ID), nil, func(_, v []byte) (bool, error) {
			var t moveTask
			if err := json.Unmarshal(v, &t); err != nil {
				return false, err
			}
			e := sqsapi.ListMessageMoveTasksResultEntry{
				Status: awsapi.String(t.Status), SourceArn: awsapi.String(t.SourceArn),
				DestinationArn:                    optional(t.DestinationArn),
				ApproximateNumberOfMessagesMoved:  awsapi.Int64(t.Moved),
				ApproximateNumberOfMessagesToMove: awsapi.Int64(t.ToMove),
				FailureReason:                     optional(t.FailureReason),
				StartedTimestamp:                  awsapi.Int64(t.Started),
			}
			if t.Rate > 0 {
				e.MaxNumberOfMessagesPerSecond = awsapi.Int32(t.Rate)
			}
			// The handle is only given for a task that can still be cancelled.
			if t.Status == taskRunning {
				e.TaskHandle = awsapi.String(encodeTaskHandle(&t))
			}
			out.Results = append(out.Results, e)
			return int32(len(out.Results)) < max, nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CancelMessageMoveTask stops a running task; messages already moved stay moved.
func (s *Service) CancelMessageMoveTask(ctx context.Context, in *sqsapi.CancelMessageMoveTaskInput) (*sqsapi.CancelMessageMoveTaskOutput, error) {
	raw := awsapi.ToString(in.TaskHandle)
	if raw == "" {
		return nil, errMissingParameter("TaskHandle")
	}
	var h taskHandle
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || json.Unmarshal(b, &h) != nil || h.TaskID == "" || h.SourceArn == "" {
		return nil, errInvalidParameter("Value for parameter TaskHandle is invalid.")
	}
	var moved int64
	err = s.st.Update(func(tx store.Tx) error {
		q, err := s.queueByARN(tx, h.SourceArn, "SourceArn")
		if err != nil {
			return err
		}
		var t *moveTask
		err = tx.ScanReverse(taskPrefix(q.ID), nil, func(_, v []byte) (bool, error) {
			var c moveTask
			if err := json.Unmarshal(v, &c); err != nil {
				return false, err
			}
			if c.ID == h.TaskID {
				t = &c
				return false, nil
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		if t == nil {
			return sqsapi.ErrResourceNotFoundException("Task does not exist.")
		}
		if t.Status != taskRunning {
			return errInvalidParameter("Value for parameter TaskHandle is invalid. Reason: Only tasks with status RUNNING can be cancelled.")
		}
		t.Status = taskCancelled
		moved = t.Moved
		if err := putTask(tx, t); err != nil {
			return err
		}
		return tx.Delete(runKey(t.QID, t.Seq))
	})
	if err != nil {
		return nil, err
	}
	return &sqsapi.CancelMessageMoveTaskOutput{ApproximateNumberOfMessagesMoved: &moved}, nil
}

// RunMoves runs the message move tasks until ctx is cancelled: at once when a
// task starts, then once a second while a rate-limited task runs.
func (s *Service) RunMoves(ctx context.Context) {
	for {
		running, err := s.stepMoves()
		if err != nil && !errors.Is(err, store.ErrClosed) && ctx.Err() == nil {
			s.log.Error("sqs message move", "err", err)
		}
		var tick <-chan time.Time
		if running {
			tick = s.clock.After(time.Second)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.moveKick:
		case <-tick:
		}
	}
}

// stepMoves advances every running task once: an unlimited task moves all it
// can, a rate-limited one the messages its rate allows since its last step.
// It reports whether a task is still running.
func (s *Service) stepMoves() (running bool, err error) {
	var keys [][]byte
	err = s.st.View(func(tx store.Tx) error {
		return tx.Scan(runPrefix, nil, func(k, _ []byte) (bool, error) {
			keys = append(keys, bytes.Clone(k))
			return true, nil
		})
	})
	if err != nil {
		return false, err
	}
	var errs []error
	for _, k := range keys {
		rest := k[len(runPrefix):] // <qid>/<seq>
		if len(rest) < 10 {
			continue
		}
		qid, seq := string(rest[:len(rest)-9]), binary.BigEndian.Uint64(rest[len(rest)-8:])
		for {
			more, still, err := s.stepTask(qid, seq, k)
			if err != nil {
				errs = append(errs, err)
				break
			}
			if !more {
				running = running || still
				break
			}
		}
	}
	return running, errors.Join(errs...)
}

// stepTask moves one batch of a task's messages. more says another batch can
// go at once; running that the task is still RUNNING.
func (s *Service) stepTask(qid string, seq uint64, run []byte) (more, running bool, err error) {
	now := s.clock.Now().UnixMilli()
	var woken []string
	err = s.st.Update(func(tx store.Tx) error {
		more, running, woken = false, false, nil
		v, err := tx.Get(taskKey(qid, seq))
		if err != nil {
			return err
		}
		if v == nil {
			return tx.Delete(run) // its queue was deleted
		}
		t := &moveTask{}
		if err := json.Unmarshal(v, t); err != nil {
			return err
		}
		if t.Status != taskRunning {
			return tx.Delete(run)
		}
		budget := int64(unlimitedBatch)
		if t.Rate > 0 {
			budget = int64(t.Rate) * (now - t.LastStep) / 1000
			budget = min(budget, int64(t.Rate)*5) // a long pause does not make a burst
			if budget <= 0 {
				running = true
				return nil
			}
		}
		finish := func(status, reason string) error {
			t.Status, t.FailureReason = status, reason
			return tx.Delete(run)
		}
		src, err := s.queueByARN(tx, t.SourceArn, "SourceArn")
		if err != nil || src.ID != qid {
			if err != nil && apierr.As(err) == nil {
				return err
			}
			return tx.Delete(run)
		}
		dests := map[string]*queue{}
		var moved int64
		var cands []*message
		if t.Moved < t.ToMove {
			budget = min(budget, t.ToMove-t.Moved)
			if src.fifo() {
				cands, _, err = fifoCandidates(tx, qid, now, int(budget), nil)
			} else {
				cands, _, _, err = standardCandidates(tx, qid, now, int(budget), nil)
			}
			if err != nil {
				return err
			}
		}
		var failed string
		for _, m := range cands {
			arn := t.DestinationArn
			if arn == "" {
				arn = m.SourceArn
			}
			d, ok := dests[arn]
			if !ok {
				d, err = s.queueByARN(tx, arn, "DestinationArn")
				if err != nil {
					if apierr.As(err) == nil {
						return err
					}
					d = nil
				}
				dests[arn] = d
			}
			if d == nil {
				// As AWS reports a destination deleted while the task runs.
				failed = "AWS.SimpleQueueService.NonExistentQueue"
				break
			}
			if err := removeMessage(tx, qid, m); err != nil {
				return err
			}
			// The moved message starts over in its destination: visible now,
			// never received; its retention still counts from its first send.
			m.Seq, m.VisibleAt, m.Received, m.FirstReceive, m.Token, m.SourceArn = s.nextSeq(), now, 0, 0, "", ""
			if err := putMessage(tx, d.ID, m); err != nil {
				return err
			}
			if err := addCount(tx, d.ID, 1); err != nil {
				return err
			}
			woken = append(woken, string(queueKey(d.Account, d.Region, d.Name)))
			moved++
		}
		t.Moved += moved
		t.LastStep = now
		switch {
		case failed != "":
			if err := finish(taskFailed, failed); err != nil {
				return err
			}
		case t.Moved >= t.ToMove || int64(len(cands)) < budget:
			// Everything it set out to move, or everything visible, is moved.
			if err := finish(taskCompleted, ""); err != nil {
				return err
			}
		default:
			running = true
			more = t.Rate == 0
		}
		return putTask(tx, t)
	})
	for _, k := range woken {
		s.notify(k)
	}
	return more, running, err
}
