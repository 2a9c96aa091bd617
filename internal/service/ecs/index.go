package ecs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/service/ecs/taskstate"
	"github.com/wharf-dev/wharf/internal/store"
)

// The task and task definition indexes, kept in the same transaction as the
// records they point to, so that listing, counting and expiring cost what
// they return rather than every task ever run (AWS's ListTasks and
// DescribeClusters do not slow down as a cluster's history grows):
//
//	ecs/<account>/<region>/tasks/<cluster>/<dim>/<status>/<created:020>/<id>  taskEntry (JSON)
//	ecs/live/<account>/<region>/<cluster>/<id>      liveEntry (JSON): tasks not STOPPED
//	ecs/stopped/<stoppedAt:020>/<task key>          "": STOPPED tasks, by when they stopped
//	ecs/id/<id>                                     the task's key
//	ecs/<account>/<region>/tdstatus/<status>/<family>/<revision:010>  "": revisions by status
//	ecs/<account>/<region>/tdfamily/<family>        active revisions (decimal)
//	ecs/<account>/<region>/tdfamily-active/<family>, tdfamily-inactive/<family>  ""
//	ecs/tddelete/<account>/<region>/<family>/<revision:010>  "": revisions DELETE_IN_PROGRESS (tddelete.go)
//	ecs/index                                       indexVersion, once every index is built
//
// <dim> is "all", or "family=", "group=" or "startedBy=" and the path-escaped
// value: ListTasks reads the narrowest one its filters allow. A task is
// listed under its desired status and, while its lastStatus is PENDING, also
// under PENDING (ListTasks' desiredStatus PENDING lists those). Account ids
// are 12 digits, so "live", "stopped", "id" and "index" never name one.
const (
	indexKey     = "ecs/index"
	indexVersion = "2"
	livePrefix   = "ecs/live/"
	stopPrefix   = "ecs/stopped/"
	idPrefix     = "ecs/id/"
)

// taskEntry is what ListTasks needs of a task, beside its index key.
type taskEntry struct {
	Arn        string `json:"a"`
	Family     string `json:"f,omitempty"`
	StartedBy  string `json:"s,omitempty"`
	LaunchType string `json:"l,omitempty"`
	Group      string `json:"g,omitempty"`
}

// liveEntry is a task not yet STOPPED: enough to count a cluster's tasks.
type liveEntry struct {
	Key        string `json:"k"`
	LastStatus string `json:"s"`
}

// listStatuses are the desired statuses ListTasks lists r under.
func listStatuses(r *taskRecord) []taskstate.Status {
	d := taskstate.Of(r.Task.DesiredStatus)
	if taskstate.Of(r.Task.LastStatus) == taskstate.Pending && d != taskstate.Pending {
		return []taskstate.Status{d, taskstate.Pending}
	}
	return []taskstate.Status{d}
}

// taskDims are the index dimensions of r: every task is under "all".
func taskDims(r *taskRecord) []string {
	dims := []string{"all", "family=" + url.PathEscape(awsapi.ToString(r.Def.Family)), "group=" + url.PathEscape(awsapi.ToString(r.Task.Group))}
	if sb := awsapi.ToString(r.Task.StartedBy); sb != "" {
		dims = append(dims, "startedBy="+url.PathEscape(sb))
	}
	return dims
}

func tasksPrefix(sc scope, cluster, dim string, st taskstate.Status) string {
	return sc.prefix() + "tasks/" + cluster + "/" + dim + "/" + string(st) + "/"
}

func liveClusterPrefix(sc scope, cluster string) string {
	return livePrefix + sc.account + "/" + sc.region + "/" + cluster + "/"
}

// taskIndex returns the index entries of r, key → value.
func taskIndex(r *taskRecord) (map[string][]byte, error) {
	if r == nil {
		return nil, nil
	}
	sc, id, key := scope{r.Account, r.Region}, r.id(), r.key()
	out := map[string][]byte{idPrefix + id: []byte(key)}
	e, err := json.Marshal(taskEntry{Arn: awsapi.ToString(r.Task.TaskArn), Family: awsapi.ToString(r.Def.Family),
		StartedBy: awsapi.ToString(r.Task.StartedBy), LaunchType: awsapi.ToString(r.Task.LaunchType), Group: awsapi.ToString(r.Task.Group)})
	if err != nil {
		return nil, err
	}
	var created int64
	if r.Task.CreatedAt != nil {
		created = r.Task.CreatedAt.UnixNano()
	}
	suffix := fmt.Sprintf("%020d/%s", max(created, 0), id)
	for _, st := range listStatuses(r) {
		for _, dim := range taskDims(r) {
			out[tasksPrefix(sc, r.Cluster, dim, st)+suffix] = e
		}
	}
	last := taskstate.Of(r.Task.LastStatus)
	if !last.Terminal() {
		l, err := json.Marshal(liveEntry{Key: key, LastStatus: string(last)})
		if err != nil {
			return nil, err
		}
		out[liveClusterPrefix(sc, r.Cluster)+id] = l
	} else {
		var at int64
		if r.Task.StoppedAt != nil {
			at = r.Task.StoppedAt.UnixNano()
		}
		out[fmt.Sprintf("%s%020d/%s", stopPrefix, max(at, 0), key)] = []byte{}
	}
	return out, nil
}

// putTask stores r, whose index entries were before (taskIndex of its
// stored form; nil for a new task), and moves them to match.
func putTask(tx store.Tx, before map[string][]byte, r *taskRecord) error {
	after, err := taskIndex(r)
	if err != nil {
		return err
	}
	if err := putJSON(tx, r.key(), r); err != nil {
		return err
	}
	return moveIndex(tx, before, after)
}

// deleteTask removes the stored task r and its index entries.
func deleteTask(tx store.Tx, r *taskRecord) error {
	before, err := taskIndex(r)
	if err != nil {
		return err
	}
	if err := tx.Delete([]byte(r.key())); err != nil {
		return err
	}
	return moveIndex(tx, before, nil)
}

// moveIndex deletes the entries of before that after lacks and writes those
// of after that are new or changed.
func moveIndex(tx store.Tx, before, after map[string][]byte) error {
	for k := range before {
		if _, ok := after[k]; !ok {
			if err := tx.Delete([]byte(k)); err != nil {
				return err
			}
		}
	}
	for k, v := range after {
		if b, ok := before[k]; ok && bytes.Equal(b, v) {
			continue
		}
		if err := tx.Put([]byte(k), v); err != nil {
			return err
		}
	}
	return nil
}

// liveTasks calls fn for each task not STOPPED under prefix (livePrefix, or
// a cluster's liveClusterPrefix).
func liveTasks(tx store.Tx, prefix string, fn func(liveEntry) (bool, error)) error {
	return tx.Scan([]byte(prefix), nil, func(_, v []byte) (bool, error) {
		var e liveEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return false, err
		}
		return fn(e)
	})
}

// ---- task definitions ----

func tdStatusPrefix(sc scope, status string) string { return sc.prefix() + "tdstatus/" + status + "/" }

func tdFamilyKey(sc scope, family string) string { return sc.prefix() + "tdfamily/" + family }

func tdFamilyStateKey(sc scope, active bool, family string) string {
	if active {
		return sc.prefix() + "tdfamily-active/" + family
	}
	return sc.prefix() + "tdfamily-inactive/" + family
}

// putTaskDef stores a revision whose stored status was oldStatus ("" for a
// new one) and keeps the status and family indexes with it.
func putTaskDef(tx store.Tx, sc scope, rec *taskDefRecord, oldStatus string) error {
	family, rev := awsapi.ToString(rec.Def.Family), int(awsapi.ToInt32(rec.Def.Revision))
	key := taskDefKey(sc, family, rev)
	if err := putJSON(tx, key, rec); err != nil {
		return err
	}
	status := awsapi.ToString(rec.Def.Status)
	if status == oldStatus {
		return nil
	}
	suffix := key[len(sc.prefix()+"taskdef/"):]
	if oldStatus != "" {
		if err := tx.Delete([]byte(tdStatusPrefix(sc, oldStatus) + suffix)); err != nil {
			return err
		}
	}
	if err := tx.Put([]byte(tdStatusPrefix(sc, status)+suffix), []byte{}); err != nil {
		return err
	}
	if err := markDeleting(tx, sc, family, rev, oldStatus, status); err != nil {
		return err
	}
	delta := 0
	switch {
	case status == "ACTIVE":
		delta = 1
	case oldStatus == "ACTIVE":
		delta = -1
	}
	return addFamily(tx, sc, family, delta)
}

// markDeleting keeps a revision's entry among those awaiting deletion while
// its status is DELETE_IN_PROGRESS.
func markDeleting(tx store.Tx, sc scope, family string, rev int, oldStatus, status string) error {
	switch {
	case status == "DELETE_IN_PROGRESS":
		return tx.Put([]byte(tdDeleteKey(sc, family, rev)), []byte{})
	case oldStatus == "DELETE_IN_PROGRESS":
		return tx.Delete([]byte(tdDeleteKey(sc, family, rev)))
	}
	return nil
}

// addFamily records a family (once it has a revision) and moves its count of
// ACTIVE revisions by delta.
func addFamily(tx store.Tx, sc scope, family string, delta int) error {
	n := 0
	v, err := tx.Get([]byte(tdFamilyKey(sc, family)))
	if err != nil {
		return err
	}
	if v != nil {
		fmt.Sscan(string(v), &n)
	}
	n = max(n+delta, 0)
	if err := tx.Put([]byte(tdFamilyKey(sc, family)), []byte(fmt.Sprint(n))); err != nil {
		return err
	}
	if err := tx.Delete([]byte(tdFamilyStateKey(sc, n == 0, family))); err != nil {
		return err
	}
	return tx.Put([]byte(tdFamilyStateKey(sc, n > 0, family)), []byte{})
}

// ---- building the indexes of a store written before them ----

// buildIndexes indexes every task and task definition once, when the store
// was written by a wharf without the indexes (or reset since); later writes
// keep them. It commits in batches so no one commit holds every record.
func (s *Service) buildIndexes() error {
	done := false
	if err := s.st.View(func(tx store.Tx) error {
		v, err := tx.Get([]byte(indexKey))
		done = string(v) == indexVersion
		return err
	}); err != nil || done {
		return err
	}
	const batch = 500
	var start []byte
	for {
		var next []byte
		err := s.st.Update(func(tx store.Tx) error {
			type rec struct {
				key string
				v   []byte
			}
			var recs []rec
			next = nil
			err := tx.Scan([]byte("ecs/"), start, func(k, v []byte) (bool, error) {
				if len(recs) == batch {
					next = bytes.Clone(k)
					return false, nil
				}
				recs = append(recs, rec{string(k), bytes.Clone(v)})
				return true, nil
			})
			if err != nil {
				return err
			}
			for _, r := range recs {
				parts := strings.Split(r.key, "/")
				switch {
				case len(parts) == 6 && parts[3] == "task":
					var t taskRecord
					if json.Unmarshal(r.v, &t) != nil || t.key() != r.key {
						continue // not a task this version can read: leave it
					}
					idx, err := taskIndex(&t)
					if err != nil {
						return err
					}
					if err := moveIndex(tx, nil, idx); err != nil {
						return err
					}
				case len(parts) == 6 && parts[3] == "taskdef":
					var d taskDefRecord
					if json.Unmarshal(r.v, &d) != nil {
						continue
					}
					sc := scope{parts[1], parts[2]}
					// Indexed as new, unless an earlier build got this far.
					st, err := tx.Get([]byte(tdStatusPrefix(sc, awsapi.ToString(d.Def.Status)) + parts[4] + "/" + parts[5]))
					if err != nil {
						return err
					}
					if st == nil {
						if err := putTaskDef(tx, sc, &d, ""); err != nil {
							return err
						}
					} else if err := markDeleting(tx, sc, parts[4], int(awsapi.ToInt32(d.Def.Revision)), "", awsapi.ToString(d.Def.Status)); err != nil {
						return err // indexed by version 1, which had no deletion entries
					}
				}
			}
			if next == nil {
				return tx.Put([]byte(indexKey), []byte(indexVersion))
			}
			return nil
		})
		if err != nil || next == nil {
			return err
		}
		start = next
	}
}
