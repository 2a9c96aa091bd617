package ecs_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// PutClusterCapacityProviders sets what DescribeClusters then reports, and
// refuses strategies ECS refuses; FARGATE and FARGATE_SPOT are described.
func TestClusterCapacityProvidersThroughTheSDK(t *testing.T) {
	c := ecs.NewFromConfig(startWharf(t, "process"))
	ctx := context.Background()
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("cp")}); err != nil {
		t.Fatal(err)
	}
	strategy := []ecstypes.CapacityProviderStrategyItem{
		{CapacityProvider: aws.String("FARGATE"), Weight: 1, Base: 1},
		{CapacityProvider: aws.String("FARGATE_SPOT"), Weight: 4},
	}
	out, err := c.PutClusterCapacityProviders(ctx, &ecs.PutClusterCapacityProvidersInput{Cluster: aws.String("cp"),
		CapacityProviders: []string{"FARGATE", "FARGATE_SPOT"}, DefaultCapacityProviderStrategy: strategy})
	if err != nil || len(out.Cluster.CapacityProviders) != 2 {
		t.Fatalf("PutClusterCapacityProviders = %+v, %v", out, err)
	}
	d, err := c.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"cp"}})
	if err != nil || len(d.Clusters[0].DefaultCapacityProviderStrategy) != 2 || d.Clusters[0].DefaultCapacityProviderStrategy[1].Weight != 4 {
		t.Fatalf("DescribeClusters = %+v, %v", d, err)
	}
	for name, in := range map[string]*ecs.PutClusterCapacityProvidersInput{
		"unknown provider": {Cluster: aws.String("cp"), CapacityProviders: []string{"EC2_MAGIC"}, DefaultCapacityProviderStrategy: []ecstypes.CapacityProviderStrategyItem{}},
		"strategy outside the list": {Cluster: aws.String("cp"), CapacityProviders: []string{"FARGATE"},
			DefaultCapacityProviderStrategy: []ecstypes.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE_SPOT")}}},
		"two bases": {Cluster: aws.String("cp"), CapacityProviders: []string{"FARGATE", "FARGATE_SPOT"},
			DefaultCapacityProviderStrategy: []ecstypes.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE"), Base: 1}, {CapacityProvider: aws.String("FARGATE_SPOT"), Base: 1}}},
	} {
		if _, err := c.PutClusterCapacityProviders(ctx, in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := c.PutClusterCapacityProviders(ctx, &ecs.PutClusterCapacityProvidersInput{Cluster: aws.String("missing"),
		CapacityProviders: []string{}, DefaultCapacityProviderStrategy: []ecstypes.CapacityProviderStrategyItem{}}); err == nil {
		t.Error("a missing cluster was accepted")
	}
	if _, err := c.PutClusterCapacityProviders(ctx, &ecs.PutClusterCapacityProvidersInput{Cluster: aws.String("cp"),
		CapacityProviders: []string{}, DefaultCapacityProviderStrategy: []ecstypes.CapacityProviderStrategyItem{}}); err != nil {
		t.Fatal(err)
	}
	d, _ = c.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"cp"}})
	if len(d.Clusters[0].CapacityProviders) != 0 {
		t.Errorf("after removing: %+v", d.Clusters[0].CapacityProviders)
	}
	cps, err := c.DescribeCapacityProviders(ctx, &ecs.DescribeCapacityProvidersInput{CapacityProviders: []string{"FARGATE_SPOT", "nope"}})
	if err != nil || len(cps.CapacityProviders) != 1 || aws.ToString(cps.CapacityProviders[0].CapacityProviderArn) != "arn:aws:ecs:us-east-1:000000000000:capacity-provider/FARGATE_SPOT" ||
		len(cps.Failures) != 1 {
		t.Errorf("DescribeCapacityProviders = %+v, %v", cps, err)
	}
}
