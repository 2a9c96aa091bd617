package kubernetes

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
)

// client is the part of the Kubernetes API the runner uses — Pods,
// Namespaces and Nodes of core/v1, a Pod's log, a node's proxy and the
// server's version — through one client-go RESTClient whose scheme holds
// core/v1 alone.
//
// client-go's typed clientset (k8s.io/client-go/kubernetes) would do the
// same, but linking it registers every API group's types when the binary
// starts, whichever runtime wharf uses: it was most of wharf's package
// initialisation and half of its idle memory (bench/README.md, startup).
// The requests below are the ones its core/v1 client sends (JSON, the same
// paths, options as query parameters).
type client struct {
	rc     *rest.RESTClient
	params k8sruntime.ParameterCodec
}

// newClient makes the client for cfg. It does not contact the cluster.
func newClient(cfg *rest.Config) (*client, error) {
	scheme := k8sruntime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	c := rest.CopyConfig(cfg)
	c.GroupVersion = &corev1.SchemeGroupVersion
	c.APIPath = "/api"
	c.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	if c.UserAgent == "" {
		c.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	rc, err := rest.RESTClientFor(c)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return &client{rc: rc, params: k8sruntime.NewParameterCodec(scheme)}, nil
}

// serverVersion is the API server's version (GET /version).
func (c *client) serverVersion(ctx context.Context) (*version.Info, error) {
	body, err := c.rc.Get().AbsPath("/version").Do(ctx).Raw()
	if err != nil {
		return nil, err
	}
	var info version.Info
	if err := json.Unmarshal(body, &info); err != nil {
		return nil, fmt.Errorf("unable to parse the server version: %w", err)
	}
	return &info, nil
}

// listPods lists the Pods of namespace ns (every namespace when ns is "").
func (c *client) listPods(ctx context.Context, ns string, o metav1.ListOptions) (*corev1.PodList, error) {
	out := &corev1.PodList{}
	err := c.rc.Get().NamespaceIfScoped(ns, ns != "").Resource("pods").
		VersionedParams(&o, c.params).Timeout(timeoutOf(o)).Do(ctx).Into(out)
	return out, err
}

// watchPods watches the Pods of namespace ns (every namespace when ns is "").
func (c *client) watchPods(ctx context.Context, ns string, o metav1.ListOptions) (watch.Interface, error) {
	o.Watch = true
	return c.rc.Get().NamespaceIfScoped(ns, ns != "").Resource("pods").
		VersionedParams(&o, c.params).Timeout(timeoutOf(o)).Watch(ctx)
}

// timeoutOf is a list's or watch's timeout, as the typed client sets it.
func timeoutOf(o metav1.ListOptions) time.Duration {
	if o.TimeoutSeconds == nil {
		return 0
	}
	return time.Duration(*o.TimeoutSeconds) * time.Second
}

// createPod creates pod in namespace ns.
func (c *client) createPod(ctx context.Context, ns string, pod *corev1.Pod) error {
	return c.rc.Post().Namespace(ns).Resource("pods").
		VersionedParams(&metav1.CreateOptions{}, c.params).Body(pod).Do(ctx).Error()
}

// deletePod deletes Pod ns/name.
func (c *client) deletePod(ctx context.Context, ns, name string, o metav1.DeleteOptions) error {
	return c.rc.Delete().Namespace(ns).Resource("pods").Name(name).Body(&o).Do(ctx).Error()
}

// podLogs streams a container's log.
func (c *client) podLogs(ctx context.Context, ns, name string, o *corev1.PodLogOptions) (io.ReadCloser, error) {
	return c.rc.Get().Namespace(ns).Resource("pods").Name(name).SubResource("log").
		VersionedParams(o, c.params).Stream(ctx)
}

// getNamespace reads namespace name.
func (c *client) getNamespace(ctx context.Context, name string) error {
	return c.rc.Get().Resource("namespaces").Name(name).
		VersionedParams(&metav1.GetOptions{}, c.params).Do(ctx).Into(&corev1.Namespace{})
}

// createNamespace creates ns.
func (c *client) createNamespace(ctx context.Context, ns *corev1.Namespace) error {
	return c.rc.Post().Resource("namespaces").
		VersionedParams(&metav1.CreateOptions{}, c.params).Body(ns).Do(ctx).Error()
}

// getNode reads node name.
func (c *client) getNode(ctx context.Context, name string) (*corev1.Node, error) {
	out := &corev1.Node{}
	err := c.rc.Get().Resource("nodes").Name(name).
		VersionedParams(&metav1.GetOptions{}, c.params).Do(ctx).Into(out)
	return out, err
}

// nodeProxy GETs path on node name's kubelet through the API server's proxy.
func (c *client) nodeProxy(ctx context.Context, name, path string) ([]byte, error) {
	return c.rc.Get().Resource("nodes").Name(name).SubResource("proxy").Suffix(path).DoRaw(ctx)
}
