package ecs

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	"github.com/wharf-dev/wharf/internal/lazyregexp"
	"github.com/wharf-dev/wharf/internal/store"
)

type taskDefRecord struct {
	Def  ecsapi.TaskDefinition
	Tags []ecsapi.Tag
}

var familyRE = lazyregexp.New(`^[a-zA-Z0-9_-]{1,255}$`)

func taskDefKey(sc scope, family string, rev int) string {
	return fmt.Sprintf("%staskdef/%s/%010d", sc.prefix(), family, rev)
}

// RegisterTaskDefinition registers the next revision of a family.
func (s *Service) RegisterTaskDefinition(ctx context.Context, in *ecsapi.RegisterTaskDefinitionInput) (*ecsapi.RegisterTaskDefinitionOutput, error) {
	sc := s.scope(ctx)
	family := awsapi.ToString(in.Family)
	if !familyRE.MatchString(family) {
		return nil, clientErr("Family must be between 1 and 255 characters: letters, numbers, hyphens and underscores.")
	}
	if len(in.ContainerDefinitions) == 0 {
		return nil, clientErr("Container list cannot be empty.")
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	names := map[string]bool{}
	defs := make([]ecsapi.ContainerDefinition, len(in.ContainerDefinitions))
	essential := false
	for i, c := range in.ContainerDefinitions {
		name := awsapi.ToString(c.Name)
		if name == "" {
			return nil, clientErr("Container.name should not be null or empty.")
		}
		if awsapi.ToString(c.Image) == "" {
			return nil, clientErr("Container.image should not be null or empty.")
		}
		if names[name] {
			return nil, clientErr("Duplicate container name: %s", name)
		}
		names[name] = true
		if err := checkEnvFiles(name, c.EnvironmentFiles); err != nil {
			return nil, err
		}
		if c.Essential == nil {
			c.Essential = awsapi.Bool(true) // essential defaults to true (ContainerDefinition docs)
		}
		essential = essential || *c.Essential
		defs[i] = withDefaults(c)
	}
	if !essential {
		return nil, clientErr("Task definition must have at least one essential container.")
	}
	for _, c := range defs {
		for _, d := range c.DependsOn {
			if !names[awsapi.ToString(d.ContainerName)] {
				return nil, clientErr("Container %s depends on unknown container %s.", awsapi.ToString(c.Name), awsapi.ToString(d.ContainerName))
			}
			switch awsapi.ToString(d.Condition) {
			case "START", "COMPLETE", "SUCCESS", "HEALTHY":
			default:
				return nil, clientErr("Invalid dependsOn condition: %s", awsapi.ToString(d.Condition))
			}
		}
	}
	if ignored := unsupported(defs, in.Volumes); len(ignored) > 0 {
		s.log.Warn("ecs: task definition fields accepted but not honoured", "family", family, "fields", strings.Join(ignored, ","))
	}
	caller := awsapi.CallerFrom(ctx).ARN
	if caller == "" {
		caller = "arn:aws:iam::" + sc.account + ":root"
	}
	var def ecsapi.TaskDefinition
	err := s.st.Update(func(tx store.Tx) error {
		rev := 0
		err := tx.ScanReverse([]byte(sc.prefix()+"taskdef/"+family+"/"), nil, func(k, _ []byte) (bool, error) {
			rev, _ = strconv.Atoi(string(k[strings.LastIndexByte(string(k), '/')+1:]))
			return false, nil
		})
		if err != nil {
			return err
		}
		// Deleted revisions keep their numbers (DeleteTaskDefinitions docs).
		last, err := lastDeletedRevision(tx, sc, family)
		if err != nil {
			return err
		}
		rev = max(rev, last) + 1
		now := s.now().UTC()
		def = ecsapi.TaskDefinition{
			TaskDefinitionArn:       awsapi.String(sc.arn(fmt.Sprintf("task-definition/%s:%d", family, rev))),
			ContainerDefinitions:    defs,
			Family:                  awsapi.String(family),
			TaskRoleArn:             in.TaskRoleArn,
			ExecutionRoleArn:        in.ExecutionRoleArn,
			NetworkMode:             in.NetworkMode,
			Revision:                awsapi.Int32(int32(rev)),
			Volumes:                 in.Volumes,
			Status:                  awsapi.String("ACTIVE"),
			PlacementConstraints:    in.PlacementConstraints,
			Compatibilities:         []string{"EC2", "FARGATE"},
			RequiresCompatibilities: in.RequiresCompatibilities,
			Cpu:                     in.Cpu,
			Memory:                  in.Memory,
			PidMode:                 in.PidMode,
			IpcMode:                 in.IpcMode,
			RuntimePlatform:         in.RuntimePlatform,
			EphemeralStorage:        in.EphemeralStorage,
			RegisteredAt:            &now,
			RegisteredBy:            awsapi.String(caller),
		}
		if def.Volumes == nil {
			def.Volumes = []ecsapi.Volume{}
		}
		if def.PlacementConstraints == nil {
			def.PlacementConstraints = []ecsapi.TaskDefinitionPlacementConstraint{}
		}
		return putTaskDef(tx, sc, &taskDefRecord{Def: def, Tags: tagsOf(in.Tags)}, "")
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.RegisterTaskDefinitionOutput{TaskDefinition: &def, Tags: nonNilTags(in.Tags)}, nil
}

// withDefaults is a container definition as ECS describes it: the lists it
// was registered without are empty lists, cpu is 0 and a port mapping's
// protocol is tcp (the RegisterTaskDefinition and DescribeTaskDefinition
// response examples; Terraform and CDK diff against these).
func withDefaults(c ecsapi.ContainerDefinition) ecsapi.ContainerDefinition {
	if c.Cpu == nil {
		c.Cpu = awsapi.Int32(0)
	}
	if c.PortMappings == nil {
		c.PortMappings = []ecsapi.PortMapping{}
	}
	pms := make([]ecsapi.PortMapping, len(c.PortMappings))
	for i, pm := range c.PortMappings {
		if pm.Protocol == nil {
			pm.Protocol = awsapi.String("tcp")
		}
		pms[i] = pm
	}
	c.PortMappings = pms
	if c.Environment == nil {
		c.Environment = []ecsapi.KeyValuePair{}
	}
	if c.MountPoints == nil {
		c.MountPoints = []ecsapi.MountPoint{}
	}
	if c.VolumesFrom == nil {
		c.VolumesFrom = []ecsapi.VolumeFrom{}
	}
	if c.SystemControls == nil {
		c.SystemControls = []ecsapi.SystemControl{}
	}
	return c
}

// maxDeleteTaskDefinitions is how many revisions one DeleteTaskDefinitions
// takes (its taskDefinitions member).
const maxDeleteTaskDefinitions = 10

// DeleteTaskDefinitions moves INACTIVE revisions to DELETE_IN_PROGRESS: they
// stay describable, no new task or service can start from them (existing
// services still scale with theirs), and once no task or service references
// one, deleteLoop deletes it for good. An ACTIVE or unknown revision is a
// failure ("You must deregister a task definition revision before you
// delete it", DeleteTaskDefinitions docs).
func (s *Service) DeleteTaskDefinitions(ctx context.Context, in *ecsapi.DeleteTaskDefinitionsInput) (*ecsapi.DeleteTaskDefinitionsOutput, error) {
	sc := s.scope(ctx)
	if len(in.TaskDefinitions) == 0 {
		return nil, invalidParam("Task definitions cannot be empty.")
	}
	if len(in.TaskDefinitions) > maxDeleteTaskDefinitions {
		return nil, invalidParam("Up to %d task definitions can be deleted at once.", maxDeleteTaskDefinitions)
	}
	out := &ecsapi.DeleteTaskDefinitionsOutput{TaskDefinitions: []ecsapi.TaskDefinition{}, Failures: []ecsapi.Failure{}}
	err := s.st.Update(func(tx store.Tx) error {
		for _, ref := range in.TaskDefinitions {
			// Only a revision can be deleted: "family" alone names none.
			if id := strings.TrimPrefix(ref, sc.arn("task-definition/")); !strings.Contains(id, ":") {
				return clientErr("The specified task definition identifier is invalid. Specify a valid name or ARN and try again.")
			}
			rec, _, err := s.findTaskDef(tx, sc, ref)
			if apierr.As(err) != nil {
				out.Failures = append(out.Failures, ecsapi.Failure{Arn: awsapi.String(ref), Reason: awsapi.String("The specified task definition does not exist. Specify a valid account, family, revision and try again.")})
				continue
			}
			if err != nil {
				return err
			}
			if awsapi.ToString(rec.Def.Status) == "ACTIVE" {
				out.Failures = append(out.Failures, ecsapi.Failure{Arn: rec.Def.TaskDefinitionArn,
					Reason: awsapi.String("The specified task definition is still in ACTIVE status. Please deregister the target and try again.")})
				continue
			}
			was := awsapi.ToString(rec.Def.Status)
			rec.Def.Status = awsapi.String("DELETE_IN_PROGRESS")
			if err := putTaskDef(tx, sc, rec, was); err != nil {
				return err
			}
			out.TaskDefinitions = append(out.TaskDefinitions, rec.Def)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out.TaskDefinitions) > 0 {
		s.kickDeletes()
	}
	return out, nil
}

func nonNilTags(t []ecsapi.Tag) []ecsapi.Tag {
	if t == nil {
		return []ecsapi.Tag{}
	}
	return t
}

// findTaskDef resolves "family", "family:revision" or a task definition ARN;
// a bare family means its latest ACTIVE revision.
func (s *Service) findTaskDef(tx store.Tx, sc scope, ref string) (*taskDefRecord, string, error) {
	id := ref
	if strings.HasPrefix(ref, "arn:") {
		var ok bool
		if id, ok = strings.CutPrefix(ref, sc.arn("task-definition/")); !ok {
			return nil, "", clientErr("Unable to describe task definition.")
		}
	}
	family, revStr, hasRev := strings.Cut(id, ":")
	if !familyRE.MatchString(family) {
		return nil, "", clientErr("Unable to describe task definition.")
	}
	var rec taskDefRecord
	if hasRev {
		rev, err := strconv.Atoi(revStr)
		if err != nil || rev < 1 {
			return nil, "", clientErr("Invalid revision number. Number: %s", revStr)
		}
		key := taskDefKey(sc, family, rev)
		found, err := getJSON(tx, key, &rec)
		if err != nil {
			return nil, "", err
		}
		if !found {
			return nil, "", clientErr("Unable to describe task definition.")
		}
		return &rec, key, nil
	}
	var key string
	err := tx.ScanReverse([]byte(sc.prefix()+"taskdef/"+family+"/"), nil, func(k, v []byte) (bool, error) {
		var r taskDefRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return false, err
		}
		if awsapi.ToString(r.Def.Status) == "ACTIVE" {
			rec, key = r, string(k)
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return nil, "", err
	}
	if key == "" {
		return nil, "", clientErr("Unable to describe task definition.")
	}
	return &rec, key, nil
}

// DescribeTaskDefinition describes a task definition (with include TAGS, its tags).
func (s *Service) DescribeTaskDefinition(ctx context.Context, in *ecsapi.DescribeTaskDefinitionInput) (*ecsapi.DescribeTaskDefinitionOutput, error) {
	sc := s.scope(ctx)
	var rec *taskDefRecord
	err := s.st.View(func(tx store.Tx) (err error) {
		rec, _, err = s.findTaskDef(tx, sc, awsapi.ToString(in.TaskDefinition))
		return err
	})
	if err != nil {
		return nil, err
	}
	for i, c := range rec.Def.ContainerDefinitions {
		rec.Def.ContainerDefinitions[i] = withDefaults(c) // revisions stored before wharf filled them in
	}
	out := &ecsapi.DescribeTaskDefinitionOutput{TaskDefinition: &rec.Def}
	if contains(in.Include, "TAGS") {
		out.Tags = nonNilTags(rec.Tags)
	}
	return out, nil
}

// DeregisterTaskDefinition makes a revision INACTIVE: running tasks go on, new
// ones cannot start from it.
func (s *Service) DeregisterTaskDefinition(ctx context.Context, in *ecsapi.DeregisterTaskDefinitionInput) (*ecsapi.DeregisterTaskDefinitionOutput, error) {
	sc := s.scope(ctx)
	ref := awsapi.ToString(in.TaskDefinition)
	if id := strings.TrimPrefix(ref, sc.arn("task-definition/")); !strings.Contains(id, ":") {
		return nil, clientErr("Invalid revision number. Number: %s", "")
	}
	var def ecsapi.TaskDefinition
	err := s.st.Update(func(tx store.Tx) error {
		rec, _, err := s.findTaskDef(tx, sc, ref)
		if err != nil {
			return err
		}
		was := awsapi.ToString(rec.Def.Status)
		if was == "ACTIVE" {
			now := s.now().UTC()
			rec.Def.Status, rec.Def.DeregisteredAt = awsapi.String("INACTIVE"), &now
		}
		def = rec.Def
		return putTaskDef(tx, sc, rec, was)
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.DeregisterTaskDefinitionOutput{TaskDefinition: &def}, nil
}

func checkStatus(v *string) (string, error) {
	switch st := awsapi.ToString(v); st {
	case "":
		return "ACTIVE", nil
	case "ACTIVE", "INACTIVE", "DELETE_IN_PROGRESS", "ALL":
		return st, nil
	default:
		return "", invalidParam("Invalid status: %s", st)
	}
}

// ListTaskDefinitions lists task definition ARNs by family and revision.
// It reads the status index from the page's start, so a page costs what it
// returns, however many revisions there are.
func (s *Service) ListTaskDefinitions(ctx context.Context, in *ecsapi.ListTaskDefinitionsInput) (*ecsapi.ListTaskDefinitionsOutput, error) {
	sc := s.scope(ctx)
	status, err := checkStatus(in.Status)
	if err != nil {
		return nil, err
	}
	// Every revision is under taskdef/, each status's under tdstatus/, both
	// as <family>/<revision:010>.
	base := tdStatusPrefix(sc, status)
	if status == "ALL" {
		base = sc.prefix() + "taskdef/"
	}
	prefix := base
	if f := awsapi.ToString(in.FamilyPrefix); f != "" {
		prefix += f + "/" // familyPrefix names a family exactly (ListTaskDefinitions docs)
	}
	desc := awsapi.ToString(in.Sort) == "DESC"
	var start []byte
	if t := awsapi.ToString(in.NextToken); t != "" {
		// The token is the family and revision of the next one to list.
		family, rev, ok := strings.Cut(t, "/")
		if !ok || !familyRE.MatchString(family) || len(rev) != 10 || strings.Trim(rev, "0123456789") != "" || !strings.HasPrefix(base+t, prefix) {
			return nil, invalidParam("Invalid nextToken.")
		}
		start = []byte(base + t)
	}
	limit, err := pageLimit(in.MaxResults, 100)
	if err != nil {
		return nil, err
	}
	arns := []string{}
	var next *string
	err = s.st.View(func(tx store.Tx) error {
		scan := tx.Scan
		if desc {
			scan = tx.ScanReverse
		}
		return scan([]byte(prefix), start, func(k, _ []byte) (bool, error) {
			rest := string(k[len(base):])
			family, rev, ok := strings.Cut(rest, "/")
			if !ok {
				return true, nil
			}
			if len(arns) == limit {
				next = awsapi.String(rest)
				return false, nil
			}
			n, _ := strconv.Atoi(rev)
			arns = append(arns, sc.arn(fmt.Sprintf("task-definition/%s:%d", family, n)))
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.ListTaskDefinitionsOutput{TaskDefinitionArns: arns, NextToken: next}, nil
}

// pageLimit is maxResults, checked against limit (the default).
func pageLimit(maxResults *int32, limit int32) (int, error) {
	if maxResults == nil {
		return int(limit), nil
	}
	if *maxResults < 1 || *maxResults > limit {
		return 0, invalidParam("maxResults must be between 1 and %d.", limit)
	}
	return int(*maxResults), nil
}

// ListTaskDefinitionFamilies lists families: ACTIVE ones have an ACTIVE
// revision, INACTIVE ones have none. It reads the family indexes from the
// page's start.
func (s *Service) ListTaskDefinitionFamilies(ctx context.Context, in *ecsapi.ListTaskDefinitionFamiliesInput) (*ecsapi.ListTaskDefinitionFamiliesOutput, error) {
	sc := s.scope(ctx)
	status, err := checkStatus(in.Status)
	if err != nil {
		return nil, err
	}
	var base string
	switch status {
	case "ALL":
		base = tdFamilyKey(sc, "")
	case "ACTIVE":
		base = tdFamilyStateKey(sc, true, "")
	default: // INACTIVE, and DELETE_IN_PROGRESS as before: families without an ACTIVE revision
		base = tdFamilyStateKey(sc, false, "")
	}
	prefix := base + awsapi.ToString(in.FamilyPrefix)
	var start []byte
	if t := awsapi.ToString(in.NextToken); t != "" {
		// The token is the next family to list.
		if !familyRE.MatchString(t) || !strings.HasPrefix(t, awsapi.ToString(in.FamilyPrefix)) {
			return nil, invalidParam("Invalid nextToken.")
		}
		start = []byte(base + t)
	}
	limit, err := pageLimit(in.MaxResults, 100)
	if err != nil {
		return nil, err
	}
	fams := []string{}
	var next *string
	err = s.st.View(func(tx store.Tx) error {
		return tx.Scan([]byte(prefix), start, func(k, _ []byte) (bool, error) {
			f := string(k[len(base):])
			if len(fams) == limit {
				next = awsapi.String(f)
				return false, nil
			}
			fams = append(fams, f)
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.ListTaskDefinitionFamiliesOutput{Families: fams, NextToken: next}, nil
}

// unsupported lists the fields of a task definition wharf accepts and stores
// but does not act on, so that one log line says what will not happen.
func unsupported(defs []ecsapi.ContainerDefinition, volumes []ecsapi.Volume) []string {
	seen := map[string]bool{}
	var out []string
	add := func(cond bool, name string) {
		if cond && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	for _, c := range defs {
		add(len(c.Secrets) > 0, "secrets")
		add(len(c.Links) > 0, "links")
		add(len(c.VolumesFrom) > 0, "volumesFrom")
		add(c.LinuxParameters != nil, "linuxParameters")
		add(c.FirelensConfiguration != nil, "firelensConfiguration")
		add(c.RepositoryCredentials != nil, "repositoryCredentials")
		add(len(c.DnsServers) > 0 || len(c.DnsSearchDomains) > 0 || len(c.ExtraHosts) > 0 || c.Hostname != nil, "dns/hosts (host networking)")
		add(awsapi.ToBool(c.Privileged) || len(c.DockerSecurityOptions) > 0, "privileged/dockerSecurityOptions")
		add(len(c.SystemControls) > 0, "systemControls")
		add(len(c.ResourceRequirements) > 0, "resourceRequirements")
		add(c.RestartPolicy != nil, "restartPolicy")
		add(c.StartTimeout != nil, "startTimeout")
		if lc := c.LogConfiguration; lc != nil {
			add(awsapi.ToString(lc.LogDriver) != "awslogs", "logConfiguration "+awsapi.ToString(lc.LogDriver))
		}
	}
	for _, v := range volumes {
		add(v.Host == nil || awsapi.ToString(v.Host.SourcePath) == "", "volumes without host.sourcePath")
	}
	return out
}
