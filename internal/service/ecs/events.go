package ecs

import (
	"encoding/json"
	"reflect"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	"github.com/wharf-dev/wharf/internal/eventbus"
)

// publish announces the task's current state as an "ECS Task State Change"
// event. Delivery is best effort: the state is already stored.
func (s *Service) publish(r *taskRecord) {
	if s.bus == nil {
		return
	}
	detail := eventDetail(r, s.now())
	b, err := json.Marshal(detail)
	if err != nil {
		s.log.Error("ecs: event detail", "err", err)
		return
	}
	err = s.bus.Publish(s.stateChanged(r), eventbus.Event{
		Source: "aws.ecs", DetailType: "ECS Task State Change", Detail: b,
		Resources: []string{awsapi.ToString(r.Task.TaskArn)}, Account: r.Account, Region: r.Region, Time: s.now().UTC(),
	})
	if err != nil {
		s.log.Warn("ecs: publish task state change", "task", r.id(), "err", err)
	}
}

// publishContainer announces a container's new lastStatus as an "ECS
// Container State Change" event: the Container shape, with its task's
// cluster and definition, updatedAt and the task's version.
func (s *Service) publishContainer(r *taskRecord, c *ecsapi.Container) {
	if s.bus == nil {
		return
	}
	d, _ := plain(reflect.ValueOf(*c)).(map[string]any)
	if d == nil {
		return
	}
	d["clusterArn"] = awsapi.ToString(r.Task.ClusterArn)
	d["taskDefinitionArn"] = awsapi.ToString(r.Task.TaskDefinitionArn)
	d["desiredStatus"] = awsapi.ToString(r.Task.DesiredStatus)
	d["updatedAt"] = stamp(s.now())
	d["version"] = awsapi.ToInt64(r.Task.Version)
	b, err := json.Marshal(d)
	if err != nil {
		return
	}
	err = s.bus.Publish(s.containerChanged(r, c), eventbus.Event{
		Source: "aws.ecs", DetailType: "ECS Container State Change", Detail: b,
		Resources: []string{awsapi.ToString(c.ContainerArn)}, Account: r.Account, Region: r.Region, Time: s.now().UTC(),
	})
	if err != nil {
		s.log.Warn("ecs: publish container state change", "task", r.id(), "err", err)
	}
}

// eventDetail is the task as the event's detail carries it: the Task shape's
// members in their JSON names, timestamps as ISO 8601 with milliseconds, and
// updatedAt ("ECS task state change events" in the ECS developer guide).
func eventDetail(r *taskRecord, now time.Time) map[string]any {
	d, _ := plain(reflect.ValueOf(r.Task)).(map[string]any)
	if d == nil {
		d = map[string]any{}
	}
	d["updatedAt"] = stamp(now)
	if _, ok := d["tags"]; !ok {
		d["tags"] = []any{}
	}
	return d
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

var timeType = reflect.TypeOf(time.Time{})

// plain turns a generated shape into JSON values keyed by the model's member
// names, leaving out absent members.
func plain(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return plain(v.Elem())
	case reflect.Struct:
		if v.Type() == timeType {
			return stamp(v.Interface().(time.Time))
		}
		m := map[string]any{}
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name := f.Tag.Get("aws")
			if name == "" || !f.IsExported() {
				continue
			}
			fv := v.Field(i)
			if (fv.Kind() == reflect.Pointer || fv.Kind() == reflect.Slice || fv.Kind() == reflect.Map) && fv.IsNil() {
				continue
			}
			m[name] = plain(fv)
		}
		return m
	case reflect.Slice:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = plain(v.Index(i))
		}
		return out
	case reflect.Map:
		out := map[string]any{}
		for _, k := range v.MapKeys() {
			out[k.String()] = plain(v.MapIndex(k))
		}
		return out
	default:
		return v.Interface()
	}
}
