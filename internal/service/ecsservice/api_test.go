package ecsservice

import (
	"fmt"
	"testing"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
)

func code(err error) string {
	if e := apierr.As(err); e != nil {
		return e.Code + ": " + e.Message
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func TestServiceAPIErrorsInAWSWords(t *testing.T) {
	h := newHarness(t)
	h.create("web", 1, nil)
	c := awsapi.String("c")
	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"create twice", func() error {
			_, err := h.svc.CreateService(h.ctx, &ecsapi.CreateServiceInput{Cluster: c, ServiceName: awsapi.String("web"), TaskDefinition: awsapi.String("web")})
			return err
		}, "InvalidParameterException: Creation of service was not idempotent."},
		{"create in a missing cluster", func() error {
			_, err := h.svc.CreateService(h.ctx, &ecsapi.CreateServiceInput{Cluster: awsapi.String("nope"), ServiceName: awsapi.String("x"), TaskDefinition: awsapi.String("web")})
			return err
		}, "ClusterNotFoundException: Cluster not found."},
		{"create with an unknown task definition", func() error {
			_, err := h.svc.CreateService(h.ctx, &ecsapi.CreateServiceInput{Cluster: c, ServiceName: awsapi.String("x"), TaskDefinition: awsapi.String("nope")})
			return err
		}, "ClientException: Unable to describe task definition."},
		{"create with a bad name", func() error {
			_, err := h.svc.CreateService(h.ctx, &ecsapi.CreateServiceInput{Cluster: c, ServiceName: awsapi.String("a b"), TaskDefinition: awsapi.String("web")})
			return err
		}, "InvalidParameterException: Service name must be at most 255 letters (uppercase and lowercase), numbers, hyphens, and underscores."},
		{"update an unknown service", func() error {
			_, err := h.svc.UpdateService(h.ctx, &ecsapi.UpdateServiceInput{Cluster: c, Service: awsapi.String("nope"), DesiredCount: awsapi.Int32(1)})
			return err
		}, "ServiceNotFoundException: Service not found."},
		{"update in a missing cluster", func() error {
			_, err := h.svc.UpdateService(h.ctx, &ecsapi.UpdateServiceInput{Cluster: awsapi.String("nope"), Service: awsapi.String("web")})
			return err
		}, "ClusterNotFoundException: Cluster not found."},
		{"negative desired count", func() error {
			_, err := h.svc.UpdateService(h.ctx, &ecsapi.UpdateServiceInput{Cluster: c, Service: awsapi.String("web"), DesiredCount: awsapi.Int32(-1)})
			return err
		}, "InvalidParameterException: Desired count must be at least 0."},
		{"delete while scaled above zero", func() error {
			_, err := h.svc.DeleteService(h.ctx, &ecsapi.DeleteServiceInput{Cluster: c, Service: awsapi.String("web")})
			return err
		}, "InvalidParameterException: The service cannot be stopped while it is scaled above 0."},
		{"describe nothing", func() error {
			_, err := h.svc.DescribeServices(h.ctx, &ecsapi.DescribeServicesInput{Cluster: c})
			return err
		}, "InvalidParameterException: Services cannot be empty."},
		{"describe in a missing cluster", func() error {
			_, err := h.svc.DescribeServices(h.ctx, &ecsapi.DescribeServicesInput{Cluster: awsapi.String("nope"), Services: []string{"web"}})
			return err
		}, "ClusterNotFoundException: Cluster not found."},
		{"list a missing cluster", func() error {
			_, err := h.svc.ListServices(h.ctx, &ecsapi.ListServicesInput{Cluster: awsapi.String("nope")})
			return err
		}, "ClusterNotFoundException: Cluster not found."},
		{"list with a forged token", func() error {
			_, err := h.svc.ListServices(h.ctx, &ecsapi.ListServicesInput{Cluster: c, NextToken: awsapi.String("!!")})
			return err
		}, "InvalidParameterException: Invalid nextToken."},
	} {
		if got := code(tc.call()); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestDescribeServicesByNameAndARNWithMissingFailures(t *testing.T) {
	h := newHarness(t)
	arn := *h.create("web", 0, nil).ServiceArn
	if arn != "arn:aws:ecs:us-east-1:123456789012:service/c/web" {
		t.Fatalf("service ARN %s", arn)
	}
	out, err := h.svc.DescribeServices(h.ctx, &ecsapi.DescribeServicesInput{Cluster: awsapi.String("c"), Services: []string{arn, "web", "gone"}, Include: []string{"TAGS"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Services) != 2 || len(out.Failures) != 1 || *out.Failures[0].Reason != "MISSING" ||
		*out.Failures[0].Arn != "arn:aws:ecs:us-east-1:123456789012:service/c/gone" {
		t.Fatalf("services %d failures %+v", len(out.Services), out.Failures)
	}
	s := out.Services[0]
	if *s.Status != "ACTIVE" || *s.SchedulingStrategy != "REPLICA" || *s.LaunchType != "FARGATE" ||
		*s.DeploymentConfiguration.MaximumPercent != 200 || *s.DeploymentConfiguration.MinimumHealthyPercent != 100 ||
		*s.DeploymentController.Type != "ECS" || s.Tags == nil {
		t.Fatalf("service %+v", s)
	}
}

func TestDeletedServiceDrainsThenTurnsInactive(t *testing.T) {
	h := newHarness(t)
	h.create("web", 2, nil)
	h.step()
	h.step()
	out, err := h.svc.DeleteService(h.ctx, &ecsapi.DeleteServiceInput{Cluster: awsapi.String("c"), Service: awsapi.String("web"), Force: awsapi.Bool(true)})
	if err != nil || *out.Service.Status != "DRAINING" || *out.Service.DesiredCount != 0 {
		t.Fatalf("DeleteService: %v %+v", err, out)
	}
	if l, _ := h.svc.ListServices(h.ctx, &ecsapi.ListServicesInput{Cluster: awsapi.String("c")}); len(l.ServiceArns) != 0 {
		t.Fatalf("a DRAINING service is listed: %v", l.ServiceArns)
	}
	if _, err := h.svc.UpdateService(h.ctx, &ecsapi.UpdateServiceInput{Cluster: awsapi.String("c"), Service: awsapi.String("web"), DesiredCount: awsapi.Int32(1)}); code(err) != "ServiceNotActiveException: Service was not ACTIVE." {
		t.Fatalf("update while draining: %v", err)
	}
	h.step()
	if s := h.describe("web"); *s.Status != "DRAINING" {
		t.Fatalf("status %s while its tasks stop", *s.Status)
	}
	h.step()
	if s := h.describe("web"); *s.Status != "INACTIVE" || *s.RunningCount != 0 {
		t.Fatalf("status %s running %d", *s.Status, *s.RunningCount)
	}
	if len(h.tasks.running()) != 0 {
		t.Fatalf("tasks still running: %v", h.tasks.running())
	}
	// The name is free again.
	h.create("web", 1, nil)
}

func TestListServicesPages(t *testing.T) {
	h := newHarness(t)
	for i := range 7 {
		h.create(fmt.Sprintf("s%d", i), 0, nil)
	}
	var all []string
	var token *string
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("too many pages")
		}
		out, err := h.svc.ListServices(h.ctx, &ecsapi.ListServicesInput{Cluster: awsapi.String("c"), MaxResults: awsapi.Int32(3), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.ServiceArns) > 3 {
			t.Fatalf("page of %d", len(out.ServiceArns))
		}
		all = append(all, out.ServiceArns...)
		if token = out.NextToken; token == nil {
			break
		}
	}
	if len(all) != 7 || all[0] != "arn:aws:ecs:us-east-1:123456789012:service/c/s0" || all[6] != "arn:aws:ecs:us-east-1:123456789012:service/c/s6" {
		t.Fatalf("listed %v", all)
	}
}

func FuzzServiceName(f *testing.F) {
	for _, s := range []string{"web", "arn:aws:ecs:us-east-1:123456789012:service/web", "arn:aws:ecs:us-east-1:123456789012:service/c/web",
		"arn:aws:ecs:us-east-1:123456789012:service/other/web", "arn:aws:ecs:us-east-1:123456789012:service/", "a/b", ""} {
		f.Add(s)
	}
	sc := scope{account, region}
	f.Fuzz(func(t *testing.T, ref string) {
		name, ok := serviceName(sc, "c", ref)
		if ok && !nameRE.MatchString(name) {
			t.Fatalf("%q resolved to invalid name %q", ref, name)
		}
	})
}
