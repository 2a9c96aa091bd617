package kubernetes

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned makes a certificate and key (PEM) for cn.
func selfSigned(t *testing.T, cn string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn, Organization: []string{"system:masters"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
}

// apiServer is a TLS server answering /version with who called: the client
// certificate's name, the Authorization header and the impersonation headers.
func apiServer(t *testing.T) (*httptest.Server, []byte) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who := "anonymous"
		if len(r.TLS.PeerCertificates) > 0 {
			who = "cert:" + r.TLS.PeerCertificates[0].Subject.CommonName
		}
		if a := r.Header.Get("Authorization"); a != "" {
			who += " auth:" + a
		}
		if u := r.Header.Get("Impersonate-User"); u != "" {
			who += " as:" + u + "/" + strings.Join(r.Header.Values("Impersonate-Group"), "+")
		}
		writeJSON(w, 200, map[string]string{"gitVersion": who})
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}

func whoAmI(t *testing.T, cfg *restConfig) string {
	t.Helper()
	v, err := newClient(cfg).serverVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func write(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestKubeconfigClientCertificateFilesRelativeToTheFile(t *testing.T) {
	srv, ca := apiServer(t)
	dir := t.TempDir()
	cert, key := selfSigned(t, "wharf-admin")
	write(t, filepath.Join(dir, "ca.crt"), ca)
	write(t, filepath.Join(dir, "admin.crt"), cert)
	write(t, filepath.Join(dir, "admin.key"), key)
	kc := write(t, filepath.Join(dir, "config"), []byte(`apiVersion: v1
kind: Config
clusters:
- name: other
  cluster: {server: "https://127.0.0.1:1"}
- name: test
  cluster:
    server: `+srv.URL+`/
    certificate-authority: ca.crt
users:
- name: admin
  user:
    client-certificate: admin.crt
    client-key: admin.key
contexts:
- name: other
  context: {cluster: other, user: admin}
- name: test
  context: {cluster: test, user: admin, namespace: default}
current-context: test
`))
	cfg, err := loadConfig(kc)
	if err != nil {
		t.Fatal(err)
	}
	if got := whoAmI(t, cfg); got != "cert:wharf-admin" {
		t.Errorf("server saw %q", got)
	}
}

func TestKubeconfigInlineDataTokenAndImpersonationAsJSON(t *testing.T) {
	srv, ca := apiServer(t)
	b64 := base64.StdEncoding.EncodeToString
	// JSON, as kubectl also reads it.
	kc := write(t, filepath.Join(t.TempDir(), "config.json"), []byte(`{"apiVersion":"v1","kind":"Config",
"clusters":[{"name":"c","cluster":{"server":"`+srv.URL+`","certificate-authority-data":"`+b64(ca)+`"}}],
"users":[{"name":"u","user":{"token":"abc.def","as":"jane","as-groups":["devs","ops"]}}],
"contexts":[{"name":"x","context":{"cluster":"c","user":"u"}}],"current-context":"x"}`))
	cfg, err := loadConfig(kc)
	if err != nil {
		t.Fatal(err)
	}
	if got := whoAmI(t, cfg); got != "anonymous auth:Bearer abc.def as:jane/devs+ops" {
		t.Errorf("server saw %q", got)
	}
}

func TestKubeconfigTokenFileInsecureAndKUBECONFIGMerge(t *testing.T) {
	srv, _ := apiServer(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "token"), []byte("from-file\n"))
	// The first file sets current-context and a user; the second the
	// cluster, a context, and a user of the same name the first wins over.
	first := write(t, filepath.Join(dir, "a"), []byte(`current-context: ctx
users:
- name: u
  user: {tokenFile: token}
`))
	second := write(t, filepath.Join(dir, "b"), []byte(`clusters:
- name: c
  cluster: {server: "`+srv.URL+`", insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: not-this-one}
contexts:
- name: ctx
  context: {cluster: c, user: u}
current-context: not-this-one
`))
	t.Setenv("KUBECONFIG", first+string(os.PathListSeparator)+filepath.Join(dir, "missing")+string(os.PathListSeparator)+second)
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	cfg, err := loadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	if got := whoAmI(t, cfg); got != "anonymous auth:Bearer from-file" {
		t.Errorf("server saw %q", got)
	}
}

func TestKubeconfigExecPlugin(t *testing.T) {
	srv, ca := apiServer(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "ca.crt"), ca)
	// The plugin proves it was given the cluster (provideClusterInfo) by
	// putting its server into the token.
	plugin := write(t, filepath.Join(dir, "plugin"), []byte(`#!/bin/sh
case "$KUBERNETES_EXEC_INFO" in *'"server":"`+srv.URL+`"'*) server=ok ;; *) server=missing ;; esac
echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"'"$PLUGIN_PREFIX-$server"'"}}'
`))
	if err := os.Chmod(plugin, 0o755); err != nil {
		t.Fatal(err)
	}
	kc := write(t, filepath.Join(dir, "config"), []byte(`clusters:
- name: c
  cluster: {server: "`+srv.URL+`", certificate-authority: ca.crt}
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: `+plugin+`
      env: [{name: PLUGIN_PREFIX, value: plugged}]
      provideClusterInfo: true
      interactiveMode: Never
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
`))
	cfg, err := loadConfig(kc)
	if err != nil {
		t.Fatal(err)
	}
	if got := whoAmI(t, cfg); got != "anonymous auth:Bearer plugged-ok" {
		t.Errorf("server saw %q", got)
	}
}

func TestInClusterConfig(t *testing.T) {
	srv, ca := apiServer(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "token"), []byte("sa-token"))
	write(t, filepath.Join(dir, "ca.crt"), ca)
	old := serviceAccountDir
	serviceAccountDir = dir
	t.Cleanup(func() { serviceAccountDir = old })
	host, port, _ := strings.Cut(strings.TrimPrefix(srv.URL, "https://"), ":")
	t.Setenv("KUBERNETES_SERVICE_HOST", host)
	t.Setenv("KUBERNETES_SERVICE_PORT", port)
	cfg, err := loadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	if got := whoAmI(t, cfg); got != "anonymous auth:Bearer sa-token" {
		t.Errorf("server saw %q", got)
	}
}

func TestKubeconfigRefusesWhatItCannotUse(t *testing.T) {
	dir := t.TempDir()
	cert, _ := selfSigned(t, "x")
	b64 := base64.StdEncoding.EncodeToString
	for name, c := range map[string]struct{ config, want string }{
		"auth-provider": {`clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {auth-provider: {name: gcp}}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x`, `auth-provider "gcp" is not supported`},
		"no current context": {`clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]`, "no current-context"},
		"missing context": {`current-context: y
contexts: [{name: x, context: {cluster: c}}]`, `context "y"`},
		"missing cluster": {`current-context: x
contexts: [{name: x, context: {cluster: c}}]`, `cluster "c" is not among`},
		"insecure with a CA": {`clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true, certificate-authority-data: "` + b64(cert) + `"}}]
contexts: [{name: x, context: {cluster: c}}]
current-context: x`, "insecure flag is not allowed"},
		"certificate without key": {`clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {client-certificate-data: "` + b64(cert) + `"}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x`, "must be given together"},
		"token and basic": {`clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {token: t, username: a, password: b}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x`, "more than one"},
		"interactive exec": {`clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: x, interactiveMode: Always}}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x`, "needs a terminal"},
		"not a server URL": {`clusters: [{name: c, cluster: {server: "ftp://h"}}]
contexts: [{name: x, context: {cluster: c}}]
current-context: x`, "not an http(s) URL"},
		"not YAML": {"clusters: [", "kubeconfig"},
	} {
		path := write(t, filepath.Join(dir, strings.ReplaceAll(name, " ", "-")), []byte(c.config))
		_, err := loadConfig(path)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", name, err, c.want)
		}
	}
	if _, err := loadConfig(filepath.Join(dir, "absent")); err == nil {
		t.Error("a kubeconfig given that does not exist: no error")
	}
	// A pair that does not match is refused when loaded, not at first use.
	_, otherKey := selfSigned(t, "y")
	path := write(t, filepath.Join(dir, "mismatch"), []byte(`clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {client-certificate-data: "`+b64(cert)+`", client-key-data: "`+b64(otherKey)+`"}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x`))
	if _, err := loadConfig(path); err == nil {
		t.Error("mismatched certificate and key: no error")
	}
}
