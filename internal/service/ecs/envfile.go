package ecs

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
)

// ObjectReader reads an object of wharf's S3 by value, as the account that
// owns a task: where a container definition's environmentFiles come from.
// S3 implements it.
type ObjectReader interface {
	ReadObject(ctx context.Context, account, bucket, key string) ([]byte, error)
}

// maxEnvFiles is how many environment files a container may list ("You can
// specify up to ten environment files", EnvironmentFile docs).
const maxEnvFiles = 10

// SetObjectReader makes r the source of environment files.
func (s *Service) SetObjectReader(r ObjectReader) { s.objects.Store(&r) }

func (s *Service) objectReader() ObjectReader {
	if p := s.objects.Load(); p != nil {
		return *p
	}
	return nil
}

// checkEnvFiles applies the limits RegisterTaskDefinition can check before
// any task runs: up to ten files, of type s3 (EnvironmentFile docs).
func checkEnvFiles(container string, files []ecsapi.EnvironmentFile) error {
	if len(files) > maxEnvFiles {
		return clientErr("Container %s has %d environment files; you can specify up to %d.", container, len(files), maxEnvFiles)
	}
	for _, f := range files {
		if t := awsapi.ToString(f.Type); t != "s3" {
			return clientErr("Invalid environment file type %q for container %s. The only supported value is s3.", t, container)
		}
		if awsapi.ToString(f.Value) == "" {
			return clientErr("Environment file value for container %s should not be null or empty.", container)
		}
	}
	return nil
}

// envFilesOf is the environment files a container is started with: a
// container override's list replaces the definition's (ContainerOverride docs:
// "instead of the value from the container definition").
func envFilesOf(cd *ecsapi.ContainerDefinition, co *ecsapi.ContainerOverride) []ecsapi.EnvironmentFile {
	if co != nil && len(co.EnvironmentFiles) > 0 {
		return co.EnvironmentFiles
	}
	return cd.EnvironmentFiles
}

// loadEnvFiles reads and parses every container's environment files before
// any container starts, as the ECS agent downloads them as a task resource,
// and returns each container's variables. An error is the text AWS puts after
// "ResourceInitializationError: failed to download env files: ".
func (s *Service) loadEnvFiles(ctx context.Context, r *taskRecord) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	cache := map[string]map[string]string{} // one read per file per task
	for i := range r.Def.ContainerDefinitions {
		cd := &r.Def.ContainerDefinitions[i]
		name := awsapi.ToString(cd.Name)
		files := envFilesOf(cd, containerOverride(r.Task.Overrides, name))
		if len(files) == 0 {
			continue
		}
		env := map[string]string{}
		for _, f := range files {
			arn := awsapi.ToString(f.Value)
			vars, ok := cache[arn]
			if !ok {
				var err error
				if vars, err = s.readEnvFile(ctx, r.Account, f); err != nil {
					return nil, err
				}
				cache[arn] = vars
			}
			// Files are processed from the top down: a variable an earlier
			// file set is kept (EnvironmentFile docs; the ECS agent only sets
			// what is not yet set).
			for k, v := range vars {
				if _, set := env[k]; !set {
					env[k] = v
				}
			}
		}
		out[name] = env
	}
	return out, nil
}

// readEnvFile fetches one environment file from S3 and parses it.
func (s *Service) readEnvFile(ctx context.Context, account string, f ecsapi.EnvironmentFile) (map[string]string, error) {
	arn := awsapi.ToString(f.Value)
	if t := awsapi.ToString(f.Type); t != "s3" {
		return nil, fmt.Errorf("environment file %s: unsupported type %q (the only supported value is s3)", arn, t)
	}
	bucket, key, err := parseS3ARN(arn)
	if err != nil {
		return nil, err
	}
	rd := s.objectReader()
	if rd == nil {
		return nil, fmt.Errorf("unable to download env file with key %s from bucket %s: S3 is not running", key, bucket)
	}
	b, err := rd.ReadObject(ctx, account, bucket, key)
	if err != nil {
		return nil, fmt.Errorf("unable to download env file with key %s from bucket %s: %w", key, bucket, err)
	}
	vars, err := parseEnvFile(b)
	if err != nil {
		return nil, fmt.Errorf("env file %s: %w", arn, err)
	}
	return vars, nil
}

// parseS3ARN splits an S3 object ARN (arn:aws:s3:::bucket/key) into bucket
// and key.
func parseS3ARN(arn string) (bucket, key string, err error) {
	bad := fmt.Errorf("unable to parse bucket and key from s3 ARN specified in environmentFile %s", arn)
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] != "s3" || parts[3] != "" || parts[4] != "" {
		return "", "", bad
	}
	bucket, key, ok := strings.Cut(parts[5], "/")
	if !ok || bucket == "" || key == "" {
		return "", "", bad
	}
	return bucket, key, nil
}

// parseEnvFile reads an environment file as ECS does on Fargate, where "the
// file is handled like a native Docker env-file" (EnvironmentFile docs;
// "Pass environment variables to an Amazon ECS container"): UTF-8, one
// VARIABLE=VALUE per line, leading whitespace ignored, lines beginning with #
// and blank lines ignored, no quote or escape processing (spaces and quotation
// marks are part of the value), the value is everything after the first "=".
// A later line setting the same variable wins. A line with a name and no "="
// would pass that variable from the host in Docker; wharf never passes its
// own environment, so such a line sets nothing.
func parseEnvFile(b []byte) (map[string]string, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
	vars := map[string]string{}
	for n, line := range strings.Split(string(b), "\n") {
		n++
		line = strings.TrimSuffix(line, "\r")
		if !utf8.ValidString(line) {
			return nil, fmt.Errorf("invalid utf8 bytes at line %d", n)
		}
		if strings.IndexByte(line, 0) >= 0 {
			return nil, fmt.Errorf("NUL byte at line %d", n)
		}
		line = strings.TrimLeftFunc(line, unicode.IsSpace)
		if line == "" || line[0] == '#' {
			continue
		}
		name, value, hasValue := strings.Cut(line, "=")
		if name == "" {
			return nil, fmt.Errorf("no variable name on line %d", n)
		}
		if strings.IndexFunc(name, unicode.IsSpace) >= 0 {
			return nil, fmt.Errorf("variable %q on line %d contains whitespaces", name, n)
		}
		if hasValue {
			vars[name] = value
		}
	}
	return vars, nil
}
