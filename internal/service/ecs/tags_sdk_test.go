package ecs_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// TestTagResourceOnTasksAndTaskDefinitions: TagResource, UntagResource and
// ListTagsForResource take a task's and a task definition's ARN, as they
// take a cluster's, a service's and a capacity provider's (tested beside
// those); the tags given at registration and at RunTask are the first ones,
// DescribeTaskDefinition and DescribeTasks with include TAGS show the same
// tags, and an ARN of a task or revision that does not exist is refused.
func TestTagResourceOnTasksAndTaskDefinitions(t *testing.T) {
	t.Parallel()
	c := ecs.NewFromConfig(startWharf(t, "process"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tag := func(k, v string) ecstypes.Tag { return ecstypes.Tag{Key: aws.String(k), Value: aws.String(v)} }
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("tags")}); err != nil {
		t.Fatal(err)
	}
	reg, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("tagged"), Tags: []ecstypes.Tag{tag("team", "a")},
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: aws.String("/bin/sh"), Command: []string{"-c", "sleep 60"}}}})
	if err != nil {
		t.Fatal(err)
	}
	td := reg.TaskDefinition.TaskDefinitionArn
	run, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("tags"), TaskDefinition: td, Tags: []ecstypes.Tag{tag("job", "1")}})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("RunTask: %v %+v", err, run)
	}
	task := run.Tasks[0].TaskArn
	t.Cleanup(func() {
		_, _ = c.StopTask(context.Background(), &ecs.StopTaskInput{Cluster: aws.String("tags"), Task: task}) // the server ends with the test anyway
	})
	list := func(arn *string) map[string]string {
		t.Helper()
		l, err := c.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: arn})
		if err != nil {
			t.Fatalf("ListTagsForResource %s: %v", aws.ToString(arn), err)
		}
		return tagMap(l.Tags)
	}
	for _, r := range []struct {
		arn         *string
		first, kept string
	}{{td, "team", "env"}, {task, "job", "env"}} {
		if got := list(r.arn); len(got) != 1 || got[r.first] == "" {
			t.Errorf("%s: tags %v, want only %s", aws.ToString(r.arn), got, r.first)
		}
		if _, err := c.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: r.arn, Tags: []ecstypes.Tag{tag("env", "dev"), tag(r.first, "changed")}}); err != nil {
			t.Fatalf("TagResource %s: %v", aws.ToString(r.arn), err)
		}
		if got := list(r.arn); len(got) != 2 || got["env"] != "dev" || got[r.first] != "changed" {
			t.Errorf("%s after TagResource: %v", aws.ToString(r.arn), got)
		}
		if _, err := c.UntagResource(ctx, &ecs.UntagResourceInput{ResourceArn: r.arn, TagKeys: []string{r.first}}); err != nil {
			t.Fatalf("UntagResource %s: %v", aws.ToString(r.arn), err)
		}
		if got := list(r.arn); len(got) != 1 || got[r.kept] != "dev" {
			t.Errorf("%s after UntagResource: %v", aws.ToString(r.arn), got)
		}
	}
	dtd, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: td, Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}})
	if err != nil || len(dtd.Tags) != 1 || tagMap(dtd.Tags)["env"] != "dev" {
		t.Errorf("DescribeTaskDefinition with TAGS: %v %+v", err, dtd)
	}
	dt, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("tags"), Tasks: []string{aws.ToString(task)}, Include: []ecstypes.TaskField{ecstypes.TaskFieldTags}})
	if err != nil || len(dt.Tasks) != 1 || len(dt.Tasks[0].Tags) != 1 || tagMap(dt.Tasks[0].Tags)["env"] != "dev" {
		t.Errorf("DescribeTasks with TAGS: %v %+v", err, dt)
	}
	for _, missing := range []string{aws.ToString(td)[:len(aws.ToString(td))-1] + "9", aws.ToString(task)[:len(aws.ToString(task))-4] + "0000"} {
		_, err := c.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(missing), Tags: []ecstypes.Tag{tag("a", "b")}})
		var ip *ecstypes.InvalidParameterException
		if !errors.As(err, &ip) {
			t.Errorf("TagResource of %s, which does not exist: %v, want InvalidParameterException", missing, err)
		}
	}
}

func tagMap(tags []ecstypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}
