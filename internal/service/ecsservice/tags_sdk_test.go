package ecsservice_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

// TestServiceTagsThroughTagResource: a service's ARN is taggable through
// ECS's TagResource, UntagResource and ListTagsForResource, as a cluster's
// is, and DescribeServices with include TAGS shows the result; a service
// that does not exist gets InvalidParameterException.
func TestServiceTagsThroughTagResource(t *testing.T) {
	t.Parallel()
	awsCfg := wharftest.Start(t, "--runtime", "process", "--process-images", "sleep").Config()
	awsCfg.RetryMaxAttempts = 1
	ctx := context.Background()
	c := ecs.NewFromConfig(awsCfg)
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("worker"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: aws.String("sleep"), Command: []string{"300"}, Essential: aws.Bool(true)}}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("workers"),
		TaskDefinition: aws.String("worker"), DesiredCount: aws.Int32(0), Tags: []ecstypes.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}})
	if err != nil {
		t.Fatal(err)
	}
	arn := out.Service.ServiceArn
	if _, err := c.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: arn, Tags: []ecstypes.Tag{{Key: aws.String("env"), Value: aws.String("dev")}, {Key: aws.String("team"), Value: aws.String("red")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &ecs.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"env"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: arn})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" || aws.ToString(tags.Tags[0].Value) != "red" {
		t.Fatalf("ListTagsForResource = %+v, %v; want team=red", tags, err)
	}
	d, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("c"), Services: []string{"workers"}, Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}})
	if err != nil || len(d.Services) != 1 || len(d.Services[0].Tags) != 1 || aws.ToString(d.Services[0].Tags[0].Value) != "red" {
		t.Fatalf("DescribeServices tags = %+v, %v", d, err)
	}
	_, err = c.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:ecs:us-east-1:000000000000:service/c/none")})
	var ipe *ecstypes.InvalidParameterException
	if !errors.As(err, &ipe) {
		t.Fatalf("tags of a missing service: %v, want InvalidParameterException", err)
	}
}
