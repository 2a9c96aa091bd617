package ecs_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
)

func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// A created capacity provider is described beside FARGATE with ECS's
// defaults, updated, used by a cluster, refused deletion while used, and
// deleted (INACTIVE) once the cluster lets it go.
func TestCreatedCapacityProvidersThroughTheSDK(t *testing.T) {
	c := ecs.NewFromConfig(startWharf(t, "process"))
	ctx := context.Background()
	asgArn := "arn:aws:autoscaling:us-east-1:000000000000:autoScalingGroup:1:autoScalingGroupName/asg"
	cr, err := c.CreateCapacityProvider(ctx, &ecs.CreateCapacityProviderInput{Name: aws.String("ec2-cp"),
		AutoScalingGroupProvider: &ecstypes.AutoScalingGroupProvider{AutoScalingGroupArn: aws.String(asgArn)},
		Tags:                     []ecstypes.Tag{{Key: aws.String("team"), Value: aws.String("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	p := cr.CapacityProvider
	if aws.ToString(p.CapacityProviderArn) != "arn:aws:ecs:us-east-1:000000000000:capacity-provider/ec2-cp" || p.Status != ecstypes.CapacityProviderStatusActive ||
		p.AutoScalingGroupProvider.ManagedScaling.Status != ecstypes.ManagedScalingStatusDisabled || aws.ToInt32(p.AutoScalingGroupProvider.ManagedScaling.TargetCapacity) != 100 ||
		p.AutoScalingGroupProvider.ManagedTerminationProtection != ecstypes.ManagedTerminationProtectionDisabled ||
		p.AutoScalingGroupProvider.ManagedDraining != ecstypes.ManagedDrainingEnabled || len(p.Tags) != 1 {
		t.Fatalf("CreateCapacityProvider = %+v", p)
	}
	for name, in := range map[string]*ecs.CreateCapacityProviderInput{
		"duplicate":      {Name: aws.String("ec2-cp"), AutoScalingGroupProvider: &ecstypes.AutoScalingGroupProvider{AutoScalingGroupArn: aws.String(asgArn)}},
		"reserved":       {Name: aws.String("FargateX"), AutoScalingGroupProvider: &ecstypes.AutoScalingGroupProvider{AutoScalingGroupArn: aws.String(asgArn)}},
		"bad characters": {Name: aws.String("a b"), AutoScalingGroupProvider: &ecstypes.AutoScalingGroupProvider{AutoScalingGroupArn: aws.String(asgArn)}},
	} {
		if _, err := c.CreateCapacityProvider(ctx, in); errCode(err) != "ClientException" {
			t.Errorf("%s: err = %v, want ClientException", name, err)
		}
	}
	if _, err := c.CreateCapacityProvider(ctx, &ecs.CreateCapacityProviderInput{Name: aws.String("noasg")}); errCode(err) != "InvalidParameterException" {
		t.Errorf("without autoScalingGroupProvider: %v", err)
	}
	all, err := c.DescribeCapacityProviders(ctx, &ecs.DescribeCapacityProvidersInput{})
	if err != nil || len(all.CapacityProviders) != 3 || aws.ToString(all.CapacityProviders[0].Name) != "FARGATE" || aws.ToString(all.CapacityProviders[2].Name) != "ec2-cp" {
		t.Fatalf("DescribeCapacityProviders = %+v, %v", all, err)
	}
	up, err := c.UpdateCapacityProvider(ctx, &ecs.UpdateCapacityProviderInput{Name: aws.String("ec2-cp"),
		AutoScalingGroupProvider: &ecstypes.AutoScalingGroupProviderUpdate{ManagedScaling: &ecstypes.ManagedScaling{Status: ecstypes.ManagedScalingStatusEnabled, TargetCapacity: aws.Int32(80)},
			ManagedTerminationProtection: ecstypes.ManagedTerminationProtectionEnabled}})
	if err != nil || up.CapacityProvider.AutoScalingGroupProvider.ManagedScaling.Status != ecstypes.ManagedScalingStatusEnabled ||
		aws.ToInt32(up.CapacityProvider.AutoScalingGroupProvider.ManagedScaling.TargetCapacity) != 80 {
		t.Fatalf("UpdateCapacityProvider = %+v, %v", up, err)
	}
	d, err := c.DescribeCapacityProviders(ctx, &ecs.DescribeCapacityProvidersInput{CapacityProviders: []string{"ec2-cp"}})
	if err != nil || len(d.CapacityProviders) != 1 || d.CapacityProviders[0].AutoScalingGroupProvider.ManagedTerminationProtection != ecstypes.ManagedTerminationProtectionEnabled {
		t.Fatalf("after update: %+v, %v", d, err)
	}
	if _, err := c.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: p.CapacityProviderArn, Tags: []ecstypes.Tag{{Key: aws.String("env"), Value: aws.String("dev")}}}); err != nil {
		t.Fatal(err)
	}
	if lt, err := c.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: p.CapacityProviderArn}); err != nil || len(lt.Tags) != 2 {
		t.Fatalf("ListTagsForResource = %+v, %v", lt, err)
	}
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("ec2")}); err != nil {
		t.Fatal(err)
	}
	pc, err := c.PutClusterCapacityProviders(ctx, &ecs.PutClusterCapacityProvidersInput{Cluster: aws.String("ec2"),
		CapacityProviders:               []string{"ec2-cp", "FARGATE"},
		DefaultCapacityProviderStrategy: []ecstypes.CapacityProviderStrategyItem{{CapacityProvider: aws.String("ec2-cp"), Weight: 1}}})
	if err != nil || len(pc.Cluster.CapacityProviders) != 2 {
		t.Fatalf("PutClusterCapacityProviders = %+v, %v", pc, err)
	}
	if _, err := c.DeleteCapacityProvider(ctx, &ecs.DeleteCapacityProviderInput{CapacityProvider: aws.String("ec2-cp")}); err == nil {
		t.Fatal("DeleteCapacityProvider of a provider in use succeeded")
	}
	if _, err := c.PutClusterCapacityProviders(ctx, &ecs.PutClusterCapacityProvidersInput{Cluster: aws.String("ec2"),
		CapacityProviders: []string{}, DefaultCapacityProviderStrategy: []ecstypes.CapacityProviderStrategyItem{}}); err != nil {
		t.Fatal(err)
	}
	del, err := c.DeleteCapacityProvider(ctx, &ecs.DeleteCapacityProviderInput{CapacityProvider: p.CapacityProviderArn})
	if err != nil || del.CapacityProvider.Status != ecstypes.CapacityProviderStatusInactive {
		t.Fatalf("DeleteCapacityProvider = %+v, %v", del, err)
	}
	all, err = c.DescribeCapacityProviders(ctx, &ecs.DescribeCapacityProvidersInput{})
	if err != nil || len(all.CapacityProviders) != 2 {
		t.Errorf("after delete: %+v, %v", all, err)
	}
	if _, err := c.PutClusterCapacityProviders(ctx, &ecs.PutClusterCapacityProvidersInput{Cluster: aws.String("ec2"),
		CapacityProviders: []string{"ec2-cp"}, DefaultCapacityProviderStrategy: []ecstypes.CapacityProviderStrategyItem{}}); err == nil {
		t.Error("a deleted provider was attached")
	}
	if _, err := c.DeleteCapacityProvider(ctx, &ecs.DeleteCapacityProviderInput{CapacityProvider: aws.String("FARGATE")}); err == nil {
		t.Error("FARGATE was deleted")
	}
}
