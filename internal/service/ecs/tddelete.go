package ecs

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/store"
)

// Deleting a task definition revision, as ECS does it ("Amazon ECS task
// definition states"): DeleteTaskDefinitions moves an INACTIVE revision to
// DELETE_IN_PROGRESS; ECS then checks from time to time whether any task,
// service or deployment still references it, and once none does deletes it
// for good, after which DescribeTaskDefinition no longer finds it. The
// family keeps counting: the next revision registered is numbered after
// the deleted ones.
//
//	ecs/tddelete/<account>/<region>/<family>/<revision:010>  "": revisions DELETE_IN_PROGRESS
//	ecs/<account>/<region>/tdrev/<family>                    the highest revision deleted for good (decimal)
const tdDeletePrefix = "ecs/tddelete/"

// deleteSweepEvery is how often the DELETE_IN_PROGRESS revisions are checked
// when nothing asked for a check sooner (a deletion, a task that stopped).
const deleteSweepEvery = 5 * time.Second

func tdDeleteKey(sc scope, family string, rev int) string {
	return fmt.Sprintf("%s%s/%s/%s/%010d", tdDeletePrefix, sc.account, sc.region, family, rev)
}

func tdRevKey(sc scope, family string) string { return sc.prefix() + "tdrev/" + family }

// lastDeletedRevision is the highest revision of family deleted for good (0
// when none was): RegisterTaskDefinition numbers after it.
func lastDeletedRevision(tx store.Tx, sc scope, family string) (int, error) {
	v, err := tx.Get([]byte(tdRevKey(sc, family)))
	if err != nil || v == nil {
		return 0, err
	}
	return strconv.Atoi(string(v))
}

// kickDeletes asks deleteLoop to check the DELETE_IN_PROGRESS revisions now.
func (s *Service) kickDeletes() {
	select {
	case s.deleteKick <- struct{}{}:
	default:
	}
}

// deleteLoop deletes unreferenced DELETE_IN_PROGRESS revisions until ctx ends.
func (s *Service) deleteLoop(ctx context.Context) {
	tick := time.NewTicker(deleteSweepEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.deleteKick:
		}
		if n, err := s.removeDeleted(); err != nil && ctx.Err() == nil {
			s.log.Warn("ecs: deleting task definitions", "err", err)
		} else if n > 0 {
			s.log.Debug("ecs: task definition revisions deleted", "revisions", n)
		}
	}
}

// removeDeleted deletes for good every DELETE_IN_PROGRESS revision that no
// task (not STOPPED) and no service still references, and returns how many
// it deleted. Its cost is the pending revisions and, in an account and
// region that has some, its live tasks and services.
func (s *Service) removeDeleted() (int, error) {
	type pending struct {
		family string
		rev    int
	}
	byScope := map[scope][]pending{}
	err := s.st.View(func(tx store.Tx) error {
		return tx.Scan([]byte(tdDeletePrefix), nil, func(k, _ []byte) (bool, error) {
			parts := strings.Split(string(k[len(tdDeletePrefix):]), "/")
			if len(parts) != 4 {
				return true, nil
			}
			rev, err := strconv.Atoi(parts[3])
			if err != nil {
				return true, nil
			}
			sc := scope{parts[0], parts[1]}
			byScope[sc] = append(byScope[sc], pending{parts[2], rev})
			return true, nil
		})
	})
	if err != nil || len(byScope) == 0 {
		return 0, err
	}
	total := 0
	for sc, revs := range byScope {
		used := map[string]bool{}
		if p := s.svcs.Load(); p != nil {
			if used, err = (*p).TaskDefinitionsInUse(sc.account, sc.region); err != nil {
				return total, fmt.Errorf("services' task definitions: %w", err)
			}
		}
		n := 0
		err := s.st.Update(func(tx store.Tx) error {
			n = 0
			// Read in the same transaction as the deletes, so that no
			// task starts from a revision between the check and its end
			// (RunTask refuses DELETE_IN_PROGRESS revisions; a service
			// may start one only from a revision counted in used).
			if err := liveTasks(tx, livePrefix+sc.account+"/"+sc.region+"/", func(e liveEntry) (bool, error) {
				var r taskRecord
				found, err := getJSON(tx, e.Key, &r)
				if err != nil {
					return false, fmt.Errorf("task record %s: %w", e.Key, err)
				}
				if found {
					used[awsapi.ToString(r.Task.TaskDefinitionArn)] = true
				}
				return true, nil
			}); err != nil {
				return err
			}
			for _, p := range revs {
				if used[sc.arn(fmt.Sprintf("task-definition/%s:%d", p.family, p.rev))] {
					continue
				}
				gone, err := deleteTaskDef(tx, sc, p.family, p.rev)
				if err != nil {
					return err
				}
				if gone {
					n++
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// deleteTaskDef deletes revision rev of family for good when it is still
// DELETE_IN_PROGRESS, with its index entries; a family left without any
// revision is no longer listed. It reports whether it deleted the revision.
func deleteTaskDef(tx store.Tx, sc scope, family string, rev int) (bool, error) {
	if err := tx.Delete([]byte(tdDeleteKey(sc, family, rev))); err != nil {
		return false, err
	}
	key := taskDefKey(sc, family, rev)
	var rec taskDefRecord
	found, err := getJSON(tx, key, &rec)
	if err != nil {
		return false, fmt.Errorf("task definition %s: %w", key, err)
	}
	if !found || awsapi.ToString(rec.Def.Status) != "DELETE_IN_PROGRESS" {
		return false, nil // an index entry that outlived its revision's state
	}
	if err := tx.Delete([]byte(key)); err != nil {
		return false, err
	}
	suffix := key[len(sc.prefix()+"taskdef/"):]
	if err := tx.Delete([]byte(tdStatusPrefix(sc, "DELETE_IN_PROGRESS") + suffix)); err != nil {
		return false, err
	}
	last, err := lastDeletedRevision(tx, sc, family)
	if err != nil {
		return false, err
	}
	if rev > last {
		if err := tx.Put([]byte(tdRevKey(sc, family)), []byte(strconv.Itoa(rev))); err != nil {
			return false, err
		}
	}
	left := false
	if err := tx.Scan([]byte(sc.prefix()+"taskdef/"+family+"/"), nil, func(_, _ []byte) (bool, error) {
		left = true
		return false, nil
	}); err != nil {
		return false, err
	}
	if !left {
		// "When you delete all INACTIVE task definition revisions, the task
		// definition name is not displayed in the console and not returned
		// in the API" (DeleteTaskDefinitions docs).
		for _, k := range []string{tdFamilyKey(sc, family), tdFamilyStateKey(sc, true, family), tdFamilyStateKey(sc, false, family)} {
			if err := tx.Delete([]byte(k)); err != nil {
				return false, err
			}
		}
	}
	return true, nil
}
