package kube

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/diff"
)

// Clients are every client a command needs, all built from the root's one RESTClientGetter.
// Discovery is cached once per command.
type Clients struct {
	Config    *rest.Config
	Client    kubernetes.Interface
	Dynamic   dynamic.Interface
	Metadata  metadata.Interface
	Discovery discovery.CachedDiscoveryInterface
	Mapper    meta.RESTMapper
	// Namespace is the kubeconfig context's namespace ("default" when it names none), for
	// objects that name none (there is no -n: see the root command).
	Namespace string
	// Diff, when set, receives every object a server-side dry run of an Applier checks: its live
	// state and the state the server says the apply would give it (see --diff).
	Diff *diff.Recorder

	protobufState
}

// NewClients builds the clients from the factory; it fails in one sentence when no cluster is
// configured (see Factory.CheckKubeconfig).
func NewClients(f *Factory) (*Clients, error) {
	if err := f.CheckKubeconfig(); err != nil {
		return nil, err
	}
	cfg, err := f.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	if cfg.QPS == 0 && cfg.RateLimiter == nil {
		// client-go's default client-side limit (5 QPS, burst 10) serializes a big apply to a
		// crawl (609 Kubeflow objects: over 2 minutes); like kubectl, leave throttling to the API
		// server's priority and fairness.
		cfg.QPS = -1
	}
	c := &Clients{Config: cfg, Diff: f.Diff}
	if c.Client, err = kubernetes.NewForConfig(cfg); err != nil {
		return nil, err
	}
	if c.Dynamic, err = dynamic.NewForConfig(cfg); err != nil {
		return nil, err
	}
	if c.Metadata, err = metadata.NewForConfig(cfg); err != nil {
		return nil, err
	}
	if c.Discovery, err = f.ToDiscoveryClient(); err != nil {
		return nil, err
	}
	if c.Mapper, err = f.ToRESTMapper(); err != nil {
		return nil, err
	}
	c.Mapper = newMemoMapper(c.Mapper)
	if c.Namespace, _, err = f.ToRawKubeConfigLoader().Namespace(); err != nil {
		return nil, err
	}
	return c, nil
}

// ResetMapper forgets cached discovery so new CRDs become mappable.
func (c *Clients) ResetMapper() {
	c.Discovery.Invalidate()
	if r, ok := c.Mapper.(meta.ResettableRESTMapper); ok {
		r.Reset()
	}
}
