package kubernetes

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// A kubeconfig as kubectl reads it (the fields of clientcmd's v1 Config that
// say how to reach and authenticate to a cluster). YAML is a superset of
// JSON, so a JSON kubeconfig reads too, as kubectl accepts.
type kubeconfigFile struct {
	CurrentContext string `yaml:"current-context"`
	Clusters       []struct {
		Name    string      `yaml:"name"`
		Cluster kubeCluster `yaml:"cluster"`
	} `yaml:"clusters"`
	Users []struct {
		Name string   `yaml:"name"`
		User kubeUser `yaml:"user"`
	} `yaml:"users"`
	Contexts []struct {
		Name    string      `yaml:"name"`
		Context kubeContext `yaml:"context"`
	} `yaml:"contexts"`
}

type kubeCluster struct {
	Server                   string `yaml:"server"`
	TLSServerName            string `yaml:"tls-server-name"`
	InsecureSkipTLSVerify    bool   `yaml:"insecure-skip-tls-verify"`
	CertificateAuthority     string `yaml:"certificate-authority"`
	CertificateAuthorityData string `yaml:"certificate-authority-data"`
	ProxyURL                 string `yaml:"proxy-url"`
	DisableCompression       bool   `yaml:"disable-compression"`
	dir                      string // the kubeconfig's directory: relative paths start there
}

type kubeUser struct {
	ClientCertificate     string              `yaml:"client-certificate"`
	ClientCertificateData string              `yaml:"client-certificate-data"`
	ClientKey             string              `yaml:"client-key"`
	ClientKeyData         string              `yaml:"client-key-data"`
	Token                 string              `yaml:"token"`
	TokenFile             string              `yaml:"tokenFile"`
	Impersonate           string              `yaml:"as"`
	ImpersonateUID        string              `yaml:"as-uid"`
	ImpersonateGroups     []string            `yaml:"as-groups"`
	ImpersonateExtra      map[string][]string `yaml:"as-user-extra"`
	Username              string              `yaml:"username"`
	Password              string              `yaml:"password"`
	AuthProvider          *struct {
		Name string `yaml:"name"`
	} `yaml:"auth-provider"`
	Exec *execConfig `yaml:"exec"`
	dir  string
}

type kubeContext struct {
	Cluster string `yaml:"cluster"`
	User    string `yaml:"user"`
}

// restConfig is how to reach the API server: its URL, TLS, and the
// credentials each request carries.
type restConfig struct {
	Host        string // https://host:port, no trailing slash
	TLS         *tls.Config
	Proxy       func(*http.Request) (*url.URL, error)
	NoCompress  bool
	Token       string // a bearer token, static
	TokenFile   string // a bearer token re-read from this file (service accounts' rotate)
	Username    string // basic authentication
	Password    string
	Exec        *execConfig // a credential plugin
	Impersonate impersonation
}

type impersonation struct {
	User   string
	UID    string
	Groups []string
	Extra  map[string][]string
}

// In-cluster configuration, as every Pod gets it.
var (
	serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"
)

// loadConfig is the client configuration: the kubeconfig given, else the
// in-cluster one when wharf runs in a Pod, else kubectl's default files
// ($KUBECONFIG, a list merged as kubectl merges it, then ~/.kube/config).
func loadConfig(kubeconfig string) (*restConfig, error) {
	if kubeconfig != "" {
		cfg, err := configFromFiles([]string{kubeconfig}, true)
		if err != nil {
			return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
		}
		return cfg, nil
	}
	if cfg, err := inClusterConfig(); err == nil {
		return cfg, nil
	}
	var files []string
	if env := os.Getenv("KUBECONFIG"); env != "" {
		files = filepath.SplitList(env)
	} else if home, err := os.UserHomeDir(); err == nil {
		files = []string{filepath.Join(home, ".kube", "config")}
	}
	cfg, err := configFromFiles(files, false)
	if err != nil {
		return nil, fmt.Errorf("no kubeconfig (--kubeconfig, WHARF_KUBECONFIG, KUBECONFIG or ~/.kube/config) and not inside a cluster: %w", err)
	}
	return cfg, nil
}

// inClusterConfig is the configuration of a process running in a Pod: the
// API server's service address from the environment, the Pod's service
// account token and the cluster's CA.
func inClusterConfig() (*restConfig, error) {
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		return nil, errors.New("not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set")
	}
	tokenFile := filepath.Join(serviceAccountDir, "token")
	if _, err := os.Stat(tokenFile); err != nil {
		return nil, err
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if pem, err := os.ReadFile(filepath.Join(serviceAccountDir, "ca.crt")); err == nil {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s/ca.crt holds no PEM certificate", serviceAccountDir)
		}
		tc.RootCAs = pool
	}
	return &restConfig{Host: "https://" + net.JoinHostPort(host, port), TLS: tc, Proxy: http.ProxyFromEnvironment, TokenFile: tokenFile}, nil
}

// configFromFiles merges kubeconfig files as kubectl does — the first file
// to name a cluster, user or context, or to set current-context, wins — and
// returns the current context's configuration. A missing file is an error
// when explicit, else skipped.
func configFromFiles(files []string, explicit bool) (*restConfig, error) {
	var (
		current  string
		clusters = map[string]kubeCluster{}
		users    = map[string]kubeUser{}
		contexts = map[string]kubeContext{}
		read     int
	)
	for _, f := range files {
		if f == "" {
			continue
		}
		data, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) && !explicit {
			continue
		}
		if err != nil {
			return nil, err
		}
		read++
		var kf kubeconfigFile
		if err := yaml.Unmarshal(data, &kf); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		abs, _ := filepath.Abs(f)
		dir := filepath.Dir(abs)
		if current == "" {
			current = kf.CurrentContext
		}
		for _, c := range kf.Clusters {
			if _, ok := clusters[c.Name]; !ok {
				c.Cluster.dir = dir
				clusters[c.Name] = c.Cluster
			}
		}
		for _, u := range kf.Users {
			if _, ok := users[u.Name]; !ok {
				u.User.dir = dir
				users[u.Name] = u.User
			}
		}
		for _, c := range kf.Contexts {
			if _, ok := contexts[c.Name]; !ok {
				contexts[c.Name] = c.Context
			}
		}
	}
	if read == 0 {
		return nil, errors.New("no configuration has been provided")
	}
	if current == "" {
		return nil, errors.New("no current-context is set")
	}
	ctx, ok := contexts[current]
	if !ok {
		return nil, fmt.Errorf("context %q (current-context) is not among the contexts", current)
	}
	cl, ok := clusters[ctx.Cluster]
	if !ok {
		return nil, fmt.Errorf("context %q: cluster %q is not among the clusters", current, ctx.Cluster)
	}
	u := users[ctx.User] // a context may name no user: anonymous
	if ctx.User != "" {
		if _, ok := users[ctx.User]; !ok {
			return nil, fmt.Errorf("context %q: user %q is not among the users", current, ctx.User)
		}
	}
	return buildConfig(cl, u)
}

// buildConfig turns a cluster and a user entry into a client configuration.
func buildConfig(cl kubeCluster, u kubeUser) (*restConfig, error) {
	if cl.Server == "" {
		return nil, errors.New("the cluster has no server")
	}
	host := strings.TrimRight(cl.Server, "/")
	if !strings.Contains(host, "://") {
		host = "https://" + host
	}
	pu, err := url.Parse(host)
	if err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
		return nil, fmt.Errorf("server %q is not an http(s) URL", cl.Server)
	}
	cfg := &restConfig{Host: host, Proxy: http.ProxyFromEnvironment, NoCompress: cl.DisableCompression}
	if cl.ProxyURL != "" {
		p, err := url.Parse(cl.ProxyURL)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https" && p.Scheme != "socks5") {
			return nil, fmt.Errorf("proxy-url %q: want an http, https or socks5 URL", cl.ProxyURL)
		}
		cfg.Proxy = http.ProxyURL(p)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cl.TLSServerName}
	ca, err := fileOrData(cl.CertificateAuthority, cl.CertificateAuthorityData, cl.dir, "certificate-authority")
	if err != nil {
		return nil, err
	}
	switch {
	case cl.InsecureSkipTLSVerify && ca != nil:
		return nil, errors.New("certificate-authority with insecure-skip-tls-verify: specifying a root certificates file with the insecure flag is not allowed")
	case cl.InsecureSkipTLSVerify:
		tc.InsecureSkipVerify = true
	case ca != nil:
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(ca) {
			return nil, errors.New("certificate-authority holds no PEM certificate")
		}
		tc.RootCAs = pool
	}
	cert, err := fileOrData(u.ClientCertificate, u.ClientCertificateData, u.dir, "client-certificate")
	if err != nil {
		return nil, err
	}
	key, err := fileOrData(u.ClientKey, u.ClientKeyData, u.dir, "client-key")
	if err != nil {
		return nil, err
	}
	switch {
	case cert != nil && key != nil:
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("client certificate and key: %w", err)
		}
		tc.Certificates = []tls.Certificate{pair}
	case cert != nil || key != nil:
		return nil, errors.New("client-certificate and client-key must be given together")
	}
	cfg.TLS = tc
	if u.AuthProvider != nil {
		return nil, fmt.Errorf("user auth-provider %q is not supported (client-go has none built in either): use an exec credential plugin (kubectl's client.authentication.k8s.io) or a token", u.AuthProvider.Name)
	}
	cfg.Token = u.Token
	if u.TokenFile != "" {
		cfg.TokenFile = resolve(u.TokenFile, u.dir)
		if cfg.Token == "" {
			if _, err := os.ReadFile(cfg.TokenFile); err != nil {
				return nil, fmt.Errorf("tokenFile: %w", err)
			}
		}
	}
	cfg.Username, cfg.Password = u.Username, u.Password
	if u.Exec != nil {
		if err := u.Exec.check(); err != nil {
			return nil, err
		}
		if u.Exec.ProvideClusterInfo {
			u.Exec.cluster = &execCluster{Server: host, TLSServerName: cl.TLSServerName, InsecureSkipTLSVerify: cl.InsecureSkipTLSVerify, ProxyURL: cl.ProxyURL, DisableCompression: cl.DisableCompression}
			if ca != nil {
				u.Exec.cluster.CertificateAuthorityData = ca
			}
		}
		cfg.Exec = u.Exec
	}
	n := 0
	for _, set := range []bool{cfg.Token != "" || cfg.TokenFile != "", cfg.Username != "" || cfg.Password != "", cfg.Exec != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		return nil, errors.New("the user sets more than one of token/tokenFile, username/password and exec: choose one")
	}
	cfg.Impersonate = impersonation{User: u.Impersonate, UID: u.ImpersonateUID, Groups: u.ImpersonateGroups, Extra: u.ImpersonateExtra}
	if cfg.Impersonate.User == "" && (cfg.Impersonate.UID != "" || len(cfg.Impersonate.Groups) > 0 || len(cfg.Impersonate.Extra) > 0) {
		return nil, errors.New("as-uid, as-groups and as-user-extra need as (the user to impersonate)")
	}
	return cfg, nil
}

// fileOrData is a kubeconfig's inline data (base64) or, without it, the
// content of the file it names (relative to the kubeconfig's directory).
// Neither is nil.
func fileOrData(file, data, dir, what string) ([]byte, error) {
	if data != "" {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(data))
		if err != nil {
			return nil, fmt.Errorf("%s-data: %w", what, err)
		}
		return b, nil
	}
	if file == "" {
		return nil, nil
	}
	b, err := os.ReadFile(resolve(file, dir))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return b, nil
}

func resolve(path, dir string) string {
	if path == "" || filepath.IsAbs(path) || dir == "" {
		return path
	}
	return filepath.Join(dir, path)
}
