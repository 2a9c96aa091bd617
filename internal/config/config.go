// Package config holds wharf's settings: one flag per setting, each also an
// environment variable (--listen / WHARF_LISTEN), with `wharf serve --help` as the
// single place they are documented.
package config

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/accountid"
	"github.com/wharf-dev/wharf/internal/diag"
)

// Config is the server's configuration.
type Config struct {
	Listen    string
	DataDir   string
	Ephemeral bool
	Region    string
	Account   string
	Auth      string // "any" or "strict"
	IAM       string // "off", "audit" or "enforce"
	S3Domain  string // virtual-host style buckets: <bucket>.<S3Domain>
	LogLevel  string
	LogFormat string
	// AccessKey and SecretKey are the root credentials of Account that --auth strict
	// accepts before any IAM user exists (the pair tooling uses locally: test/test).
	AccessKey string
	SecretKey string
	// SMTPAddr is the host:port of the SMTP server SNS email subscriptions are
	// delivered through; empty means email is logged, not sent.
	SMTPAddr string
	// Runtime runs ECS tasks: "docker", "process", "kubernetes", or "" for
	// docker when an engine answers, else process.
	Runtime string
	// Kubeconfig is the kubeconfig file of the kubernetes runtime; empty
	// means in-cluster configuration inside a Pod, else kubectl's rules.
	Kubeconfig string
	// KubeNamespace holds every task's Pod; empty means wharf-<cluster>.
	KubeNamespace string
	// AdvertiseURL is wharf's URL as tasks reach it; empty means the
	// address requests arrive at (tasks on this machine).
	AdvertiseURL string
	// ProcessImages are the images the process runtime may run besides
	// absolute executable paths, comma-separated: "IMAGE" (its program on
	// PATH) or "IMAGE=PATH".
	ProcessImages string
	// InitDir holds init hooks: its *.sh files run in name order once wharf
	// is ready, each once per data directory.
	InitDir string
	// HeaderTimeout bounds how long a client may take to send a request's
	// headers.
	HeaderTimeout time.Duration
	// BodyIdleTimeout bounds how long a request body may pause between bytes:
	// past it the request fails with RequestTimeout and its connection closes.
	BodyIdleTimeout time.Duration
	// MaxConnsPerClient caps the connections open at once from one client IP
	// address; 0 means no cap.
	MaxConnsPerClient int
	// ShutdownGrace is how long in-flight requests may run after a shutdown
	// begins before their connections are closed.
	ShutdownGrace time.Duration
	// ECSStatsInterval is how often running tasks' CPU and memory use is
	// sampled for AWS/ECS CPUUtilization and MemoryUtilization.
	ECSStatsInterval time.Duration
	// DebugAddr, when set, is the loopback host:port serving Go's profiles
	// and counters in expvar's format; empty (the default) serves neither.
	DebugAddr string
}

// IAM authorization modes: whether requests are decided against IAM policies.
const (
	IAMOff     = "off"     // nothing is evaluated
	IAMAudit   = "audit"   // every request is decided; denials are recorded, not refused
	IAMEnforce = "enforce" // denied requests are refused with AWS's AccessDenied errors
)

// Auth modes.
const (
	AuthAny    = "any"    // any access key is accepted; signatures are not checked
	AuthStrict = "strict" // signatures verified, unknown keys rejected
)

// Parse reads args (without the program and subcommand names) and the environment.
// Flags win over environment variables, which win over defaults.
func Parse(args []string, getenv func(string) string, out io.Writer) (*Config, error) {
	c := &Config{}
	var envErrs []error
	fs := flagSetErrs(c, getenv, out, &envErrs)
	if len(envErrs) > 0 {
		return nil, envErrs[0]
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return c, c.validate()
}

// Reference renders every setting as a Markdown table (flag, environment
// variable, default, meaning): the README's configuration reference is this
// output, so flags are documented in one place.
func Reference() string {
	fs := flagSet(&Config{}, func(k string) string {
		if k == "HOME" {
			return "~"
		}
		return ""
	}, io.Discard)
	var b strings.Builder
	b.WriteString("| flag | environment | default | meaning |\n|---|---|---|---|\n")
	fs.VisitAll(func(f *flag.Flag) {
		def := "`" + f.DefValue + "`"
		if f.DefValue == "" {
			def = "(none)"
		}
		usage, _, _ := strings.Cut(f.Usage, " (env ")
		fmt.Fprintf(&b, "| `--%s` | `%s` | %s | %s |\n", f.Name, EnvName(f.Name), def, strings.ReplaceAll(usage, "|", "\\|"))
	})
	return b.String()
}

// flagSet defines every flag on c, with defaults taken from the environment.
func flagSet(c *Config, getenv func(string) string, out io.Writer) *flag.FlagSet {
	return flagSetErrs(c, getenv, out, new([]error))
}

// flagSetErrs is flagSet, appending to errs each environment variable whose
// value its flag cannot take (a mistyped WHARF_BODY_IDLE_TIMEOUT must not
// silently become the default).
func flagSetErrs(c *Config, getenv func(string) string, out io.Writer, errs *[]error) *flag.FlagSet {
	fs := flag.NewFlagSet("wharf serve", flag.ContinueOnError)
	fs.SetOutput(out)
	str := func(p *string, name, def, usage string) {
		if v := getenv(EnvName(name)); v != "" {
			def = v
		}
		fs.StringVar(p, name, def, usage+" (env "+EnvName(name)+")")
	}
	boolean := func(p *bool, name string, def bool, usage string) {
		if v := getenv(EnvName(name)); v != "" {
			if b, err := strconv.ParseBool(v); err == nil {
				def = b
			}
		}
		fs.BoolVar(p, name, def, usage+" (env "+EnvName(name)+")")
	}
	duration := func(p *time.Duration, name string, def time.Duration, usage string) {
		if v := getenv(EnvName(name)); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				*errs = append(*errs, fmt.Errorf("%s=%q: want a duration such as 30s", EnvName(name), v))
			}
			def = d
		}
		fs.DurationVar(p, name, def, usage+" (env "+EnvName(name)+")")
	}
	integer := func(p *int, name string, def int, usage string) {
		if v := getenv(EnvName(name)); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				*errs = append(*errs, fmt.Errorf("%s=%q: want a whole number", EnvName(name), v))
			}
			def = n
		}
		fs.IntVar(p, name, def, usage+" (env "+EnvName(name)+")")
	}
	str(&c.Listen, "listen", "127.0.0.1:4566", "address and port to serve every service on")
	str(&c.DataDir, "data-dir", defaultDataDir(getenv), "directory holding wharf's durable state")
	boolean(&c.Ephemeral, "ephemeral", false, "keep all state in memory; nothing is written to disk")
	str(&c.Region, "region", "us-east-1", "default region for requests that do not name one")
	str(&c.Account, "account", "000000000000", "default 12-digit account id")
	str(&c.Auth, "auth", AuthAny, "authentication: any (accept any access key) or strict (verify SigV4 and S3's SigV2, reject unknown keys)")
	str(&c.IAM, "iam", IAMAudit, "authorization: off (decide nothing), audit (decide as AWS would and record denials) or enforce (refuse what AWS would refuse)")
	str(&c.S3Domain, "s3-domain", "s3.localhost", "domain under which BUCKET.DOMAIN addresses a bucket (virtual-host style)")
	str(&c.AccessKey, "access-key", "test", "root access key id of the default account")
	str(&c.SecretKey, "secret-key", "test", "root secret access key of the default account")
	str(&c.SMTPAddr, "smtp-addr", "", "host:port of the SMTP server SNS delivers email subscriptions through; empty: email is logged, not sent")
	str(&c.Runtime, "runtime", "", "ECS task runtime: docker (fails at start when no engine answers), process (host processes) or kubernetes; default: docker when an engine answers, else process with a warning")
	str(&c.Kubeconfig, "kubeconfig", "", "kubeconfig of the cluster --runtime kubernetes runs tasks on; empty: in-cluster configuration inside a Pod, else $KUBECONFIG or ~/.kube/config")
	str(&c.KubeNamespace, "kube-namespace", "", "namespace of every task's Pod with --runtime kubernetes; empty: wharf-<cluster> per ECS cluster")
	str(&c.AdvertiseURL, "advertise-url", "", "wharf's URL as tasks reach it (AWS_ENDPOINT_URL in their containers; its host also serves their credentials and metadata); empty: the address requests arrive at")
	str(&c.ProcessImages, "process-images", "", "images the process runtime may run besides absolute executable paths, comma-separated IMAGE (its program on PATH) or IMAGE=PATH; any other image stops its task with CannotPullContainerError")
	str(&c.InitDir, "init-dir", "", "directory of init hooks: its *.sh files run in name order once wharf is ready (AWS_ENDPOINT_URL, region and credentials set), each once per data directory")
	duration(&c.HeaderTimeout, "header-timeout", 30*time.Second, "longest a client may take to send a request's headers; then the connection is closed")
	duration(&c.BodyIdleTimeout, "body-idle-timeout", time.Minute, "longest a request body may pause between bytes; then the request fails with RequestTimeout and the connection is closed")
	integer(&c.MaxConnsPerClient, "max-conns-per-client", 256, "most connections open at once from one client IP address (0: no cap); more are answered 503 and closed while others are served")
	duration(&c.ShutdownGrace, "shutdown-grace", 10*time.Second, "on SIGINT/SIGTERM, how long in-flight requests may finish before their connections are closed (stalled and idle ones are closed at once)")
	duration(&c.ECSStatsInterval, "ecs-stats-interval", 20*time.Second, "how often each running task's CPU and memory use is sampled for the AWS/ECS CPUUtilization and MemoryUtilization metrics (the ECS agent samples every 20s)")
	str(&c.DebugAddr, "debug-addr", "", "loopback host:port serving profiles (/debug/pprof/) and counters (/debug/vars: goroutines, open connections, store commit latency); empty: off. Other addresses are refused")
	str(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	str(&c.LogFormat, "log-format", "text", "log format: text or json")
	return fs
}

// ProcessImageList is ProcessImages split at its commas, without empty entries.
func (c *Config) ProcessImageList() []string {
	var out []string
	for _, e := range strings.Split(c.ProcessImages, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

func (c *Config) validate() error {
	if !accountid.Valid(c.Account) {
		return fmt.Errorf("--account %q: want 12 digits", c.Account)
	}
	if c.Auth != AuthAny && c.Auth != AuthStrict {
		return fmt.Errorf("--auth %q: want any or strict", c.Auth)
	}
	if c.IAM != IAMOff && c.IAM != IAMAudit && c.IAM != IAMEnforce {
		return fmt.Errorf("--iam %q: want off, audit or enforce", c.IAM)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("--log-format %q: want text or json", c.LogFormat)
	}
	if c.Runtime != "" && c.Runtime != "docker" && c.Runtime != "process" && c.Runtime != "kubernetes" {
		return fmt.Errorf("--runtime %q: want docker, process or kubernetes", c.Runtime)
	}
	if c.AdvertiseURL != "" {
		u, err := url.Parse(c.AdvertiseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--advertise-url %q: want http(s)://host[:port]", c.AdvertiseURL)
		}
	}
	if c.InitDir != "" {
		if _, err := os.ReadDir(c.InitDir); err != nil {
			return fmt.Errorf("--init-dir: %w", err)
		}
	}
	for _, e := range c.ProcessImageList() {
		if img, exe, ok := strings.Cut(e, "="); img == "" || ok && exe == "" {
			return fmt.Errorf("--process-images %q: want IMAGE or IMAGE=PATH", e)
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"header-timeout", c.HeaderTimeout}, {"body-idle-timeout", c.BodyIdleTimeout}, {"shutdown-grace", c.ShutdownGrace}, {"ecs-stats-interval", c.ECSStatsInterval}} {
		if d.v <= 0 {
			return fmt.Errorf("--%s %s: want a positive duration", d.name, d.v)
		}
	}
	if c.MaxConnsPerClient < 0 {
		return fmt.Errorf("--max-conns-per-client %d: want 0 (no cap) or more", c.MaxConnsPerClient)
	}
	if c.DebugAddr != "" {
		if err := diag.CheckLoopback(c.DebugAddr); err != nil {
			return fmt.Errorf("--debug-addr %q: %w", c.DebugAddr, err)
		}
	}
	if _, err := c.Level(); err != nil {
		return err
	}
	if c.Region == "" {
		return fmt.Errorf("--region must not be empty")
	}
	return nil
}

// Level returns the slog level named by LogLevel.
func (c *Config) Level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}

// EnvName is the environment variable of flag name: listen → WHARF_LISTEN.
func EnvName(flagName string) string {
	return "WHARF_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// defaultDataDir is $XDG_DATA_HOME/wharf, else $HOME/.local/share/wharf.
func defaultDataDir(getenv func(string) string) string {
	if d := getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "wharf")
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, ".local", "share", "wharf")
	}
	return "wharf-data"
}
