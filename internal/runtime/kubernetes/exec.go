package kubernetes

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"
)

// execConfig is a kubeconfig user's credential plugin (client.authentication.k8s.io):
// a command that prints an ExecCredential with a token or a client
// certificate, as kubectl runs it for cloud providers' clusters.
type execConfig struct {
	Command string   `yaml:"command"`
	Args    []string `yaml:"args"`
	Env     []struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	} `yaml:"env"`
	APIVersion         string `yaml:"apiVersion"`
	InstallHint        string `yaml:"installHint"`
	ProvideClusterInfo bool   `yaml:"provideClusterInfo"`
	InteractiveMode    string `yaml:"interactiveMode"`

	cluster *execCluster

	mu   sync.Mutex
	cred *execStatus
}

// execCluster is the cluster as a plugin asking for it sees it.
type execCluster struct {
	Server                   string `json:"server"`
	TLSServerName            string `json:"tls-server-name,omitempty"`
	InsecureSkipTLSVerify    bool   `json:"insecure-skip-tls-verify,omitempty"`
	CertificateAuthorityData []byte `json:"certificate-authority-data,omitempty"`
	ProxyURL                 string `json:"proxy-url,omitempty"`
	DisableCompression       bool   `json:"disable-compression,omitempty"`
}

// execStatus is an ExecCredential's status.
type execStatus struct {
	ExpirationTimestamp   *time.Time `json:"expirationTimestamp"`
	Token                 string     `json:"token"`
	ClientCertificateData string     `json:"clientCertificateData"`
	ClientKeyData         string     `json:"clientKeyData"`
	cert                  *tls.Certificate
}

func (e *execConfig) check() error {
	switch e.APIVersion {
	case "client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1":
	default:
		return fmt.Errorf("exec plugin: apiVersion %q: want client.authentication.k8s.io/v1 or v1beta1", e.APIVersion)
	}
	if e.Command == "" {
		return errors.New("exec plugin: no command")
	}
	if e.InteractiveMode == "Always" {
		return errors.New("exec plugin: interactiveMode Always needs a terminal, and wharf runs without one")
	}
	return nil
}

// credential is the plugin's current credential, running it when there is
// none or it has expired.
func (e *execConfig) credential(ctx context.Context) (*execStatus, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c := e.cred; c != nil && (c.ExpirationTimestamp == nil || time.Until(*c.ExpirationTimestamp) > 10*time.Second) {
		return c, nil
	}
	in := map[string]any{"apiVersion": e.APIVersion, "kind": "ExecCredential", "spec": map[string]any{"interactive": false}}
	if e.cluster != nil {
		in["spec"].(map[string]any)["cluster"] = e.cluster
	}
	info, _ := json.Marshal(in)
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.Command, e.Args...)
	cmd.Env = append(os.Environ(), "KUBERNETES_EXEC_INFO="+string(info))
	for _, kv := range e.Env {
		cmd.Env = append(cmd.Env, kv.Name+"="+kv.Value)
	}
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) && e.InstallHint != "" {
			return nil, fmt.Errorf("exec plugin %s: %w\n%s", e.Command, err, e.InstallHint)
		}
		return nil, fmt.Errorf("exec plugin %s: %w: %s", e.Command, err, bytes.TrimSpace(stderr.Bytes()))
	}
	var cred struct {
		APIVersion string      `json:"apiVersion"`
		Kind       string      `json:"kind"`
		Status     *execStatus `json:"status"`
	}
	if err := json.Unmarshal(out.Bytes(), &cred); err != nil {
		return nil, fmt.Errorf("exec plugin %s: its output is not an ExecCredential: %w", e.Command, err)
	}
	if cred.Kind != "ExecCredential" || cred.APIVersion != e.APIVersion || cred.Status == nil {
		return nil, fmt.Errorf("exec plugin %s: want an ExecCredential of %s with a status, got kind %q apiVersion %q", e.Command, e.APIVersion, cred.Kind, cred.APIVersion)
	}
	s := cred.Status
	switch {
	case s.ClientCertificateData != "" && s.ClientKeyData != "":
		pair, err := tls.X509KeyPair([]byte(s.ClientCertificateData), []byte(s.ClientKeyData))
		if err != nil {
			return nil, fmt.Errorf("exec plugin %s: client certificate: %w", e.Command, err)
		}
		s.cert = &pair
	case s.ClientCertificateData != "" || s.ClientKeyData != "":
		return nil, fmt.Errorf("exec plugin %s: clientCertificateData and clientKeyData must come together", e.Command)
	case s.Token == "":
		return nil, fmt.Errorf("exec plugin %s: its ExecCredential has neither a token nor a client certificate", e.Command)
	}
	e.cred = s
	return s, nil
}

// forget drops the cached credential: the API server refused it.
func (e *execConfig) forget() {
	e.mu.Lock()
	e.cred = nil
	e.mu.Unlock()
}

// clientCertificate gives TLS the plugin's client certificate, if its
// credential is one.
func (e *execConfig) clientCertificate(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
	c, err := e.credential(cri.Context())
	if err != nil {
		return nil, err
	}
	if c.cert == nil {
		return &tls.Certificate{}, nil
	}
	return c.cert, nil
}
