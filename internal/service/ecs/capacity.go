package ecs

import (
	"context"

	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
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
	for _, cp := range in.CapacityProviders {
		if !contains(builtinProviders, cp) {
			return nil, invalidParam("The specified capacity provider %s was not found.", cp)
		}
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
	names := in.CapacityProviders
	if len(names) == 0 {
		names = builtinProviders
	}
	var found []ecsapi.CapacityProvider
	for _, ref := range names {
		n := ref
		if p, ok := cutARN(sc, ref); ok {
			n = p
		}
		if contains(builtinProviders, n) {
			found = append(found, builtinProvider(sc, n))
			continue
		}
		out.Failures = append(out.Failures, ecsapi.Failure{Arn: awsapi.String(ref), Reason: awsapi.String("MISSING")})
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
