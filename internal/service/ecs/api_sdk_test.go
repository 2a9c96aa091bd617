package ecs_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func TestClustersThroughTheSDK(t *testing.T) {
	c := ecs.NewFromConfig(startWharf(t, "process"))
	ctx := context.Background()
	out, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod"), CapacityProviders: []string{"FARGATE", "FARGATE_SPOT"},
		Tags: []ecstypes.Tag{{Key: aws.String("team"), Value: aws.String("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Cluster.ClusterArn) != "arn:aws:ecs:us-east-1:000000000000:cluster/prod" || aws.ToString(out.Cluster.Status) != "ACTIVE" {
		t.Errorf("cluster = %+v", out.Cluster)
	}
	again, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")})
	if err != nil || aws.ToString(again.Cluster.ClusterArn) != aws.ToString(out.Cluster.ClusterArn) {
		t.Errorf("CreateCluster is not idempotent: %+v, %v", again, err)
	}
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("x"), CapacityProviders: []string{"EC2_MAGIC"}}); err == nil {
		t.Error("unknown capacity provider accepted")
	}
	d, err := c.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"prod", "nope"}, Include: []ecstypes.ClusterField{ecstypes.ClusterFieldTags}})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Clusters) != 1 || len(d.Clusters[0].Tags) != 1 || len(d.Failures) != 1 || aws.ToString(d.Failures[0].Reason) != "MISSING" {
		t.Errorf("describe = %+v", d)
	}
	u, err := c.UpdateCluster(ctx, &ecs.UpdateClusterInput{Cluster: aws.String("prod"), Settings: []ecstypes.ClusterSetting{{Name: ecstypes.ClusterSettingNameContainerInsights, Value: aws.String("enabled")}}})
	if err != nil || aws.ToString(u.Cluster.Settings[0].Value) != "enabled" {
		t.Errorf("update = %+v, %v", u, err)
	}
	l, err := c.ListClusters(ctx, &ecs.ListClustersInput{})
	if err != nil || !slices.Equal(l.ClusterArns, []string{"arn:aws:ecs:us-east-1:000000000000:cluster/prod"}) {
		t.Errorf("list = %+v, %v", l, err)
	}
	if _, err := c.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	var nf *ecstypes.ClusterNotFoundException
	if _, err := c.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("prod")}); !errors.As(err, &nf) {
		t.Errorf("second delete: %v", err)
	}
	if _, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("nope"), TaskDefinition: aws.String("x")}); !errors.As(err, &nf) {
		t.Errorf("RunTask on a missing cluster: %v", err)
	}
}

func TestTaskDefinitionsThroughTheSDK(t *testing.T) {
	c := ecs.NewFromConfig(startWharf(t, "process"))
	ctx := context.Background()
	reg := func(family string) *ecstypes.TaskDefinition {
		t.Helper()
		out, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(family),
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: aws.String("busybox")}},
			Tags:                 []ecstypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
		if err != nil {
			t.Fatal(err)
		}
		return out.TaskDefinition
	}
	first, second := reg("web"), reg("web")
	reg("worker")
	if aws.ToString(second.TaskDefinitionArn) != "arn:aws:ecs:us-east-1:000000000000:task-definition/web:2" || second.Revision != 2 {
		t.Errorf("second revision = %s", aws.ToString(second.TaskDefinitionArn))
	}
	if !aws.ToBool(first.ContainerDefinitions[0].Essential) || first.Status != ecstypes.TaskDefinitionStatusActive {
		t.Errorf("defaults not applied: %+v", first)
	}
	d, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web"), Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}})
	if err != nil || d.TaskDefinition.Revision != 2 || len(d.Tags) != 1 {
		t.Errorf("describe latest = %+v, %v", d, err)
	}
	if _, err := c.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("web:2")}); err != nil {
		t.Fatal(err)
	}
	d, err = c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web")})
	if err != nil || d.TaskDefinition.Revision != 1 {
		t.Errorf("latest ACTIVE after deregistering 2 = %+v, %v", d, err)
	}
	l, err := c.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("web"), Status: ecstypes.TaskDefinitionStatusInactive})
	if err != nil || len(l.TaskDefinitionArns) != 1 {
		t.Errorf("inactive = %+v, %v", l, err)
	}
	all, err := c.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{Sort: ecstypes.SortOrderDesc, MaxResults: aws.Int32(1)})
	if err != nil || len(all.TaskDefinitionArns) != 1 || all.NextToken == nil || all.TaskDefinitionArns[0] != "arn:aws:ecs:us-east-1:000000000000:task-definition/worker:1" {
		t.Errorf("paged desc = %+v, %v", all, err)
	}
	f, err := c.ListTaskDefinitionFamilies(ctx, &ecs.ListTaskDefinitionFamiliesInput{})
	if err != nil || !slices.Equal(f.Families, []string{"web", "worker"}) {
		t.Errorf("families = %+v, %v", f, err)
	}
	var ce *ecstypes.ClientException
	if _, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("nope:1")}); !errors.As(err, &ce) {
		t.Errorf("missing definition: %v", err)
	}
	if _, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("bad"), ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("x")}}}); !errors.As(err, &ce) {
		t.Errorf("container without image: %v", err)
	}
	var ip *ecstypes.InvalidParameterException
	if _, err := c.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("worker"), Overrides: &ecstypes.TaskOverride{
		ContainerOverrides: []ecstypes.ContainerOverride{{Name: aws.String("ghost")}}}}); !errors.As(err, &ip) {
		t.Errorf("override of an unknown container: %v", err)
	}
}

func TestTaggingAndAccountSettingsThroughTheSDK(t *testing.T) {
	c := ecs.NewFromConfig(startWharf(t, "process"))
	ctx := context.Background()
	cl, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("tagged")})
	if err != nil {
		t.Fatal(err)
	}
	arn := cl.Cluster.ClusterArn
	if _, err := c.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: arn, Tags: []ecstypes.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &ecs.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: arn})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "b" {
		t.Errorf("tags = %+v, %v", tags, err)
	}
	if _, err := c.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:ecs:us-east-1:000000000000:cluster/none")}); err == nil {
		t.Error("tags of a missing cluster")
	}

	put, err := c.PutAccountSetting(ctx, &ecs.PutAccountSettingInput{Name: ecstypes.SettingNameContainerInsights, Value: aws.String("enabled")})
	if err != nil || aws.ToString(put.Setting.PrincipalArn) != "arn:aws:iam::000000000000:root" {
		t.Fatalf("put = %+v, %v", put, err)
	}
	l, err := c.ListAccountSettings(ctx, &ecs.ListAccountSettingsInput{Name: ecstypes.SettingNameContainerInsights})
	if err != nil || len(l.Settings) != 1 || aws.ToString(l.Settings[0].Value) != "enabled" {
		t.Errorf("list = %+v, %v", l, err)
	}
	eff, err := c.ListAccountSettings(ctx, &ecs.ListAccountSettingsInput{EffectiveSettings: true, Name: ecstypes.SettingNameTaskLongArnFormat})
	if err != nil || len(eff.Settings) != 1 || aws.ToString(eff.Settings[0].Value) != "enabled" {
		t.Errorf("effective = %+v, %v", eff, err)
	}
	if _, err := c.PutAccountSetting(ctx, &ecs.PutAccountSettingInput{Name: "noSuchSetting", Value: aws.String("x")}); err == nil {
		t.Error("unknown setting accepted")
	}
}
