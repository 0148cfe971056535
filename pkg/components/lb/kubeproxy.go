package lb

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/yaml"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// kube-proxy's configuration as kubeadm-style clusters keep it.
const (
	KubeProxyNamespace = "kube-system"
	KubeProxyConfigMap = "kube-proxy"
	KubeProxyConfigKey = "config.conf"
)

// StrictARPFix tells how to set strictARP by hand (MetalLB's installation guide).
const StrictARPFix = `kubectl get configmap kube-proxy -n kube-system -o yaml | sed -e "s/strictARP: false/strictARP: true/" | kubectl apply -f - -n kube-system` +
	` (or re-run with --fix-strict-arp), then restart kube-proxy: kubectl -n kube-system rollout restart daemonset kube-proxy`

// ProxyMode is what the kube-proxy ConfigMap says.
type ProxyMode struct {
	// Found is false when there is no kube-system/kube-proxy ConfigMap (e.g. RKE runs kube-proxy
	// with flags: --proxy-mode=ipvs --ipvs-strict-arp).
	Found     bool
	Mode      string
	StrictARP bool
}

// NeedsStrictARP tells whether MetalLB's L2 mode would be broken: IPVS without strictARP.
func (m ProxyMode) NeedsStrictARP() bool { return m.Found && m.Mode == "ipvs" && !m.StrictARP }

// parseProxyConfig reads mode and ipvs.strictARP from a KubeProxyConfiguration document.
func parseProxyConfig(doc string) (map[string]any, ProxyMode, error) {
	cfg := map[string]any{}
	if err := yaml.Unmarshal([]byte(doc), &cfg); err != nil {
		return nil, ProxyMode{}, err
	}
	m := ProxyMode{Found: true}
	m.Mode, _ = cfg["mode"].(string)
	if ipvs, ok := cfg["ipvs"].(map[string]any); ok {
		m.StrictARP, _ = ipvs["strictARP"].(bool)
	}
	return cfg, m, nil
}

// ReadProxyMode reads kube-system/kube-proxy.
func (in *Installer) ReadProxyMode(ctx context.Context) (ProxyMode, error) {
	cm, err := in.Clients.Client.CoreV1().ConfigMaps(KubeProxyNamespace).Get(ctx, KubeProxyConfigMap, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return ProxyMode{}, nil
	}
	if err != nil {
		return ProxyMode{}, fmt.Errorf("lb: read ConfigMap %s/%s: %w", KubeProxyNamespace, KubeProxyConfigMap, err)
	}
	_, m, err := parseProxyConfig(cm.Data[KubeProxyConfigKey])
	if err != nil {
		return ProxyMode{}, fmt.Errorf("lb: ConfigMap %s/%s: %s is not a KubeProxyConfiguration: %w", KubeProxyNamespace, KubeProxyConfigMap, KubeProxyConfigKey, err)
	}
	return m, nil
}

// StrictARP checks kube-proxy: in IPVS mode MetalLB's L2 mode needs ipvs.strictARP: true. Without
// fix a missing setting is a warning on stderr with the fix; with it the ConfigMap is updated
// (res says so; dry is the run's dry-run strategy) and the note says kube-proxy must restart to
// pick it up.
func (in *Installer) StrictARP(ctx context.Context, fix bool, dry core.DryRunStrategy) (res *output.Result, note string, err error) {
	m, err := in.ReadProxyMode(ctx)
	if err != nil {
		return nil, "", err
	}
	if !m.NeedsStrictARP() {
		if fix {
			why := "kube-proxy is not in IPVS mode"
			switch {
			case !m.Found:
				why = "there is no ConfigMap kube-system/kube-proxy (on RKE set kube-proxy's extra_args ipvs-strict-arp: \"true\" when proxy-mode is ipvs)"
			case m.StrictARP:
				why = "strictARP is already true"
			}
			in.Progress.Logf("lb: --fix-strict-arp: nothing to do: %s", why)
		}
		return nil, "", nil
	}
	if !fix {
		in.Progress.Logf("lb: warning: kube-proxy runs in IPVS mode without ipvs.strictARP: true; MetalLB's L2 mode needs it. Fix: %s", StrictARPFix)
		return nil, "", nil
	}
	r := output.Result{Kind: "ConfigMap", Namespace: KubeProxyNamespace, Name: KubeProxyConfigMap, Action: output.Configured, Detail: "ipvs.strictARP: true"}
	note = "kube-proxy reads its ConfigMap only at start: restart it with `kubectl -n kube-system rollout restart daemonset kube-proxy`"
	if dry.Active() {
		r.DryRun = dry
		if dry == core.DryRunClient {
			return &r, note, nil
		}
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cm, err := in.Clients.Client.CoreV1().ConfigMaps(KubeProxyNamespace).Get(ctx, KubeProxyConfigMap, metav1.GetOptions{})
		if err != nil {
			return err
		}
		doc, err := setStrictARP(cm.Data[KubeProxyConfigKey])
		if err != nil {
			return err
		}
		cm.Data[KubeProxyConfigKey] = doc
		opts := metav1.UpdateOptions{FieldManager: "kubectl-flexigrobots"}
		if dry == core.DryRunServer {
			opts.DryRun = []string{metav1.DryRunAll}
		}
		_, err = in.Clients.Client.CoreV1().ConfigMaps(KubeProxyNamespace).Update(ctx, cm, opts)
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("lb: set ipvs.strictARP in ConfigMap %s/%s: %w", KubeProxyNamespace, KubeProxyConfigMap, err)
	}
	// The result line says what changed and the note (printed once, with the report's notes)
	// what to do next: no progress line repeats them.
	return &r, note, nil
}

// setStrictARP returns the KubeProxyConfiguration doc with ipvs.strictARP: true; every other
// line, comments and key order included, stays as it was (the sed of MetalLB's guide, made
// safe: it also works when the key is missing).
func setStrictARP(doc string) (string, error) {
	node, err := kyaml.Parse(doc)
	if err != nil {
		return "", err
	}
	ipvs, err := node.Pipe(kyaml.LookupCreate(kyaml.MappingNode, "ipvs"))
	if err != nil {
		return "", err
	}
	if field := ipvs.Field("strictARP"); field != nil {
		// Edit the value in place so its comment stays.
		v := field.Value.YNode()
		v.Kind, v.Tag, v.Style, v.Value = kyaml.ScalarNode, kyaml.NodeTagBool, 0, "true"
		return node.String()
	}
	value := kyaml.NewScalarRNode("true")
	value.YNode().Tag = kyaml.NodeTagBool
	if err := ipvs.PipeE(kyaml.SetField("strictARP", value)); err != nil {
		return "", err
	}
	return node.String()
}
