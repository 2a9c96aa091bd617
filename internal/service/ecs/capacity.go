package ecs

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	"github.com/wharf-dev/wharf/internal/lazyregexp"
	"github.com/wharf-dev/wharf/internal/store"
)

// Capacity providers. wharf runs every task the same way, so the two
// providers AWS gives every account, FARGATE and FARGATE_SPOT, are the ones
// there are; a cluster records which it uses and its default strategy, as
// ECS reports them, and a strategy picks the provider a task is shown with.

var builtinProviders = []string{"FARGATE", "FARGATE_SPOT"}

func builtinProvider(sc scope, name string) ecsapi.CapacityProvider {
	return ecsapi.CapacityProvider{
		CapacityProviderArn: awsapi.String(sc.arn("capacity-provider/" + name)),
		Name:                awsapi.String(name),
		Status:              awsapi.String("ACTIVE"),
		Tags:                []ecsapi.Tag{},
	}
}

// checkStrategy validates a capacity provider strategy against the
// providers it may use (PutClusterCapacityProviders and
// CapacityProviderStrategyItem docs: weight 0-1000, base 0-100000, a base on
// at most one provider, each provider once).
func checkStrategy(strategy []ecsapi.CapacityProviderStrategyItem, providers []string) error {
	seen := map[string]bool{}
	bases := 0
	for _, it := range strategy {
		cp := awsapi.ToString(it.CapacityProvider)
		if cp == "" {
			return invalidParam("The capacity provider strategy must specify a capacity provider.")
		}
		if !contains(providers, cp) {
			return invalidParam("The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again.")
		}
		if seen[cp] {
			return invalidParam("The specified capacity provider strategy cannot contain duplicate capacity providers.")
		}
		seen[cp] = true
		if w := it.Weight; w != nil && (*w < 0 || *w > 1000) {
			return invalidParam("The specified capacity provider strategy weight must be between 0 and 1000.")
		}
		if b := it.Base; b != nil {
			if *b < 0 || *b > 100000 {
				return invalidParam("The specified capacity provider strategy base must be between 0 and 100000.")
			}
			if *b > 0 {
				bases++
			}
		}
	}
	if bases > 1 {
		return invalidParam("The specified capacity provider strategy cannot contain more than one capacity provider with a base value greater than zero.")
	}
	return nil
}

// PutClusterCapacityProviders replaces the cluster's capacity providers and
// default strategy; empty lists remove them.
func (s *Service) PutClusterCapacityProviders(ctx context.Context, in *ecsapi.PutClusterCapacityProvidersInput) (*ecsapi.PutClusterCapacityProvidersOutput, error) {
	sc := s.scope(ctx)
	name, err := clusterName(sc, awsapi.ToString(in.Cluster))
	if err != nil {
		return nil, err
	}
	if in.CapacityProviders == nil || in.DefaultCapacityProviderStrategy == nil {
		return nil, invalidParam("capacityProviders and defaultCapacityProviderStrategy are required.")
	}
	if err := checkStrategy(in.DefaultCapacityProviderStrategy, in.CapacityProviders); err != nil {
		return nil, err
	}
	var out ecsapi.Cluster
	err = s.st.Update(func(tx store.Tx) error {
		c, err := s.activeCluster(tx, sc, name)
		if err != nil {
			return err
		}
		if err := checkProviders(tx, sc, in.CapacityProviders); err != nil {
			return err
		}
		c.Cluster.CapacityProviders = append([]string{}, in.CapacityProviders...)
		c.Cluster.DefaultCapacityProviderStrategy = append([]ecsapi.CapacityProviderStrategyItem{}, in.DefaultCapacityProviderStrategy...)
		out = c.Cluster
		return putJSON(tx, sc.prefix()+"cluster/"+name, c)
	})
	if err != nil {
		return nil, err
	}
	out = s.withCounts(sc, out)
	return &ecsapi.PutClusterCapacityProvidersOutput{Cluster: &out}, nil
}

// DescribeCapacityProviders describes the named providers, or all of them.
// A name that is no provider is a failure entry, as on ECS.
func (s *Service) DescribeCapacityProviders(ctx context.Context, in *ecsapi.DescribeCapacityProvidersInput) (*ecsapi.DescribeCapacityProvidersOutput, error) {
	sc := s.scope(ctx)
	out := &ecsapi.DescribeCapacityProvidersOutput{CapacityProviders: []ecsapi.CapacityProvider{}, Failures: []ecsapi.Failure{}}
	var found []ecsapi.CapacityProvider
	err := s.st.View(func(tx store.Tx) error {
		names := in.CapacityProviders
		if len(names) == 0 {
			for _, n := range builtinProviders {
				found = append(found, builtinProvider(sc, n))
			}
			return tx.Scan([]byte(sc.prefix()+"capacity-provider/"), nil, func(_, v []byte) (bool, error) {
				var p ecsapi.CapacityProvider
				if err := json.Unmarshal(v, &p); err != nil {
					return false, err
				}
				if awsapi.ToString(p.Status) == "ACTIVE" {
					found = append(found, p)
				}
				return true, nil
			})
		}
		for _, ref := range names {
			n := providerRef(sc, ref)
			if contains(builtinProviders, n) {
				found = append(found, builtinProvider(sc, n))
				continue
			}
			// A deleted provider is still described, INACTIVE, as on ECS.
			var p ecsapi.CapacityProvider
			ok, err := getJSON(tx, providerKey(sc, n), &p)
			if err != nil {
				return err
			}
			if ok {
				found = append(found, p)
				continue
			}
			out.Failures = append(out.Failures, ecsapi.Failure{Arn: awsapi.String(ref), Reason: awsapi.String("MISSING")})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	page, next, err := page(found, in.NextToken, in.MaxResults, 10)
	if err != nil {
		return nil, err
	}
	out.CapacityProviders = append(out.CapacityProviders, page...)
	out.NextToken = next
	return out, nil
}

// cutARN returns the name of a capacity provider ARN of the caller's scope.
func cutARN(sc scope, ref string) (string, bool) {
	p := sc.arn("capacity-provider/")
	if len(ref) > len(p) && ref[:len(p)] == p {
		return ref[len(p):], true
	}
	return "", false
}

// Capacity providers an account creates. wharf has no EC2 Auto Scaling, so
// a provider records the Auto Scaling group and settings it is given, with
// the defaults ECS reports, and a cluster may use it like FARGATE.

var providerNameRE = lazyregexp.New(`^[a-zA-Z0-9_-]{1,255}$`)

func providerKey(sc scope, name string) string { return sc.prefix() + "capacity-provider/" + name }

// checkProviderName applies the CreateCapacityProvider name rules.
func checkProviderName(name string) error {
	if !providerNameRE.MatchString(name) {
		return clientErr("The capacity provider name must be at most 255 letters (uppercase and lowercase), numbers, underscores, and hyphens.")
	}
	l := strings.ToLower(name)
	for _, p := range []string{"aws", "ecs", "fargate"} {
		if strings.HasPrefix(l, p) {
			return clientErr("The capacity provider name cannot be prefixed with \"aws\", \"ecs\", or \"fargate\".")
		}
	}
	return nil
}

// providerRef resolves a capacity provider name or ARN to its name.
func providerRef(sc scope, ref string) string {
	if n, ok := cutARN(sc, ref); ok {
		return n
	}
	return ref
}

// activeProvider loads an ACTIVE created provider.
func activeProvider(tx store.Tx, sc scope, name string) (*ecsapi.CapacityProvider, error) {
	var p ecsapi.CapacityProvider
	found, err := getJSON(tx, providerKey(sc, name), &p)
	if err != nil || !found || awsapi.ToString(p.Status) != "ACTIVE" {
		return nil, err
	}
	return &p, nil
}

// checkProviders reports the first name that is neither built in nor an
// ACTIVE created provider.
func checkProviders(tx store.Tx, sc scope, names []string) error {
	for _, cp := range names {
		if contains(builtinProviders, cp) {
			continue
		}
		p, err := activeProvider(tx, sc, cp)
		if err != nil {
			return err
		}
		if p == nil {
			return invalidParam("The specified capacity provider %s was not found.", cp)
		}
	}
	return nil
}

// applyScaling sets what an update or create gives over the ECS defaults
// (managed scaling disabled, target 100, steps 1-10000, warm-up 300 s).
func applyScaling(asg *ecsapi.AutoScalingGroupProvider, ms *ecsapi.ManagedScaling, term, drain *string) error {
	if asg.ManagedScaling == nil {
		asg.ManagedScaling = &ecsapi.ManagedScaling{Status: awsapi.String("DISABLED"), TargetCapacity: awsapi.Int32(100),
			MinimumScalingStepSize: awsapi.Int32(1), MaximumScalingStepSize: awsapi.Int32(10000), InstanceWarmupPeriod: awsapi.Int32(300)}
	}
	if asg.ManagedTerminationProtection == nil {
		asg.ManagedTerminationProtection = awsapi.String("DISABLED")
	}
	if asg.ManagedDraining == nil {
		asg.ManagedDraining = awsapi.String("ENABLED")
	}
	if ms != nil {
		m := asg.ManagedScaling
		if ms.Status != nil {
			if s := *ms.Status; s != "ENABLED" && s != "DISABLED" {
				return invalidParam("managedScaling status must be ENABLED or DISABLED.")
			}
			m.Status = ms.Status
		}
		if v := ms.TargetCapacity; v != nil {
			if *v < 1 || *v > 100 {
				return invalidParam("The managed scaling target capacity must be between 1 and 100.")
			}
			m.TargetCapacity = v
		}
		if v := ms.MinimumScalingStepSize; v != nil {
			if *v < 1 || *v > 10000 {
				return invalidParam("The minimum scaling step size must be between 1 and 10000.")
			}
			m.MinimumScalingStepSize = v
		}
		if v := ms.MaximumScalingStepSize; v != nil {
			if *v < 1 || *v > 10000 {
				return invalidParam("The maximum scaling step size must be between 1 and 10000.")
			}
			m.MaximumScalingStepSize = v
		}
		if v := ms.InstanceWarmupPeriod; v != nil {
			if *v < 0 || *v > 10000 {
				return invalidParam("The instance warmup period must be between 0 and 10000.")
			}
			m.InstanceWarmupPeriod = v
		}
		if *m.MinimumScalingStepSize > *m.MaximumScalingStepSize {
			return invalidParam("The minimum scaling step size cannot be greater than the maximum scaling step size.")
		}
	}
	for _, v := range []*string{term, drain} {
		if v != nil && *v != "ENABLED" && *v != "DISABLED" {
			return invalidParam("Invalid value %s: must be ENABLED or DISABLED.", *v)
		}
	}
	if term != nil {
		asg.ManagedTerminationProtection = term
	}
	if drain != nil {
		asg.ManagedDraining = drain
	}
	return nil
}

// CreateCapacityProvider creates an Auto Scaling group capacity provider.
func (s *Service) CreateCapacityProvider(ctx context.Context, in *ecsapi.CreateCapacityProviderInput) (*ecsapi.CreateCapacityProviderOutput, error) {
	sc := s.scope(ctx)
	name := awsapi.ToString(in.Name)
	if err := checkProviderName(name); err != nil {
		return nil, err
	}
	if in.ManagedInstancesProvider != nil {
		return nil, ecsapi.ErrUnsupportedFeatureException("wharf supports Auto Scaling group capacity providers only.")
	}
	if in.AutoScalingGroupProvider == nil || awsapi.ToString(in.AutoScalingGroupProvider.AutoScalingGroupArn) == "" {
		return nil, invalidParam("autoScalingGroupProvider with an autoScalingGroupArn is required.")
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	g := in.AutoScalingGroupProvider
	asg := &ecsapi.AutoScalingGroupProvider{AutoScalingGroupArn: g.AutoScalingGroupArn}
	if err := applyScaling(asg, g.ManagedScaling, g.ManagedTerminationProtection, g.ManagedDraining); err != nil {
		return nil, err
	}
	p := ecsapi.CapacityProvider{
		CapacityProviderArn: awsapi.String(sc.arn("capacity-provider/" + name)), Name: awsapi.String(name),
		Status: awsapi.String("ACTIVE"), AutoScalingGroupProvider: asg, Tags: tagsOf(in.Tags),
		Type: awsapi.String("EC2_AUTOSCALING"),
	}
	if p.Tags == nil {
		p.Tags = []ecsapi.Tag{}
	}
	err := s.st.Update(func(tx store.Tx) error {
		old, err := activeProvider(tx, sc, name)
		if err != nil {
			return err
		}
		if old != nil {
			return clientErr("The specified capacity provider already exists. To change the configuration of an existing capacity provider, update the capacity provider.")
		}
		return putJSON(tx, providerKey(sc, name), p)
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.CreateCapacityProviderOutput{CapacityProvider: &p}, nil
}

// UpdateCapacityProvider changes a created provider's Auto Scaling settings.
func (s *Service) UpdateCapacityProvider(ctx context.Context, in *ecsapi.UpdateCapacityProviderInput) (*ecsapi.UpdateCapacityProviderOutput, error) {
	sc := s.scope(ctx)
	name := providerRef(sc, awsapi.ToString(in.Name))
	if in.ManagedInstancesProvider != nil {
		return nil, ecsapi.ErrUnsupportedFeatureException("wharf supports Auto Scaling group capacity providers only.")
	}
	if in.AutoScalingGroupProvider == nil {
		return nil, invalidParam("autoScalingGroupProvider is required.")
	}
	var out *ecsapi.CapacityProvider
	err := s.st.Update(func(tx store.Tx) error {
		p, err := s.providerToChange(tx, sc, name)
		if err != nil {
			return err
		}
		u := in.AutoScalingGroupProvider
		if err := applyScaling(p.AutoScalingGroupProvider, u.ManagedScaling, u.ManagedTerminationProtection, u.ManagedDraining); err != nil {
			return err
		}
		p.UpdateStatus = awsapi.String("UPDATE_COMPLETE")
		out = p
		return putJSON(tx, providerKey(sc, name), p)
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.UpdateCapacityProviderOutput{CapacityProvider: out}, nil
}

// providerToChange loads a created provider for an update or delete.
func (s *Service) providerToChange(tx store.Tx, sc scope, name string) (*ecsapi.CapacityProvider, error) {
	if contains(builtinProviders, name) {
		return nil, invalidParam("The %s capacity provider is reserved and cannot be changed or deleted.", name)
	}
	p, err := activeProvider(tx, sc, name)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, clientErr("The specified capacity provider does not exist. Specify a valid name or ARN and try again.")
	}
	if p.AutoScalingGroupProvider == nil {
		p.AutoScalingGroupProvider = &ecsapi.AutoScalingGroupProvider{}
	}
	return p, nil
}

// DeleteCapacityProvider deletes a provider no cluster uses; it is returned
// INACTIVE, as ECS does.
func (s *Service) DeleteCapacityProvider(ctx context.Context, in *ecsapi.DeleteCapacityProviderInput) (*ecsapi.DeleteCapacityProviderOutput, error) {
	sc := s.scope(ctx)
	name := providerRef(sc, awsapi.ToString(in.CapacityProvider))
	var out *ecsapi.CapacityProvider
	err := s.st.Update(func(tx store.Tx) error {
		p, err := s.providerToChange(tx, sc, name)
		if err != nil {
			return err
		}
		inUse := false
		err = tx.Scan([]byte(sc.prefix()+"cluster/"), nil, func(_, v []byte) (bool, error) {
			var c clusterRecord
			if err := json.Unmarshal(v, &c); err != nil {
				return false, err
			}
			if awsapi.ToString(c.Cluster.Status) == "ACTIVE" && contains(c.Cluster.CapacityProviders, name) {
				inUse = true
				return false, nil
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		if inUse {
			return ecsapi.ErrResourceInUseException("The specified capacity provider is in use and cannot be removed.")
		}
		p.Status = awsapi.String("INACTIVE")
		p.UpdateStatus = awsapi.String("DELETE_COMPLETE")
		out = p
		return putJSON(tx, providerKey(sc, name), p)
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.DeleteCapacityProviderOutput{CapacityProvider: out}, nil
}
