package kubeflow

// The checks of section "kubeflow": the workloads of Kubeflow's namespaces
// are ready, the ingress gateway is reachable, dex has a login connector, and neither the OIDC
// client secret nor the stores' credentials or dex's static user's password are the ones every
// Kubeflow release publishes; and the pods of its namespaces pull from the imageRegistry it was
// applied with.

import (
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks/cluster"
)

// Name is the section's name: its block in the platform file, and what `verify --section`
// selects.
const Name = "kubeflow"

// Resources the checks list.
var (
	DeploymentsGVR  = appsv1.SchemeGroupVersion.WithResource("deployments")
	StatefulSetsGVR = appsv1.SchemeGroupVersion.WithResource("statefulsets")
	ServicesGVR     = corev1.SchemeGroupVersion.WithResource("services")
	ConfigMapsGVR   = corev1.SchemeGroupVersion.WithResource("configmaps")
)

// Namespaces of Kubeflow's workloads (every supported version's; kube-system's istio-cni-node of
// v1.10 and later is left out: the namespace is the cluster's).
var Namespaces = []string{"cert-manager", "istio-system", "auth", "oauth2-proxy", "knative-eventing", "knative-serving", "kserve", "kubeflow-system", "kubeflow"}

// publicClientSecret is the OIDC client secret published in every Kubeflow release.
const publicClientSecret = "pUBnBOY80SnXgjibTYM9ZWNzY2xreNGQok"

const install = "run `kubectl flexigrobots kubeflow` (it picks the Kubeflow version that fits the cluster)"

// Checks returns the kubeflow checks in ID order.
func Checks() []checks.Check {
	return []checks.Check{
		{ID: "KUBEFLOW-001", Section: Name, Title: "Kubeflow workloads ready in every namespace", Severity: checks.Error, Resources: []schema.GroupVersionResource{DeploymentsGVR, StatefulSetsGVR}, Run: workloadsReady},
		{ID: "KUBEFLOW-002", Section: Name, Title: "Ingress gateway type and external IP", Severity: checks.Warn, Resources: []schema.GroupVersionResource{ServicesGVR}, Run: ingressAddress},
		{ID: "KUBEFLOW-003", Section: Name, Title: "Dex has a login connector", Severity: checks.Warn, Resources: []schema.GroupVersionResource{ConfigMapsGVR}, Run: dexConnector},
		{ID: "KUBEFLOW-004", Section: Name, Title: "OIDC client secret is not Kubeflow's public default", Severity: checks.Error, Probes: []checks.Probe{oidcSecretsProbe}, Run: oidcSecret},
		{ID: "KUBEFLOW-005", Section: Name, Title: "Store credentials and dex's static user are not Kubeflow's published ones", Severity: checks.Error, Probes: []checks.Probe{credentialsProbe}, Run: credentials},
		cluster.ImageRegistryCheck(Name, "KUBEFLOW-006", registryNamespaces, cluster.NamespacesGVR),
	}
}

func workloadsReady(s *checks.Snapshot) []checks.Result {
	deps, err := checks.ListAs[appsv1.Deployment](s, DeploymentsGVR)
	if err != nil {
		return []checks.Result{checks.CannotEvaluate(err, "the caller needs list on deployments.apps in all namespaces")}
	}
	sts, err := checks.ListAs[appsv1.StatefulSet](s, StatefulSetsGVR)
	if err != nil {
		return []checks.Result{checks.CannotEvaluate(err, "the caller needs list on statefulsets.apps in all namespaces")}
	}
	total, notReady := map[string]int{}, map[string][]string{}
	count := func(ns, ref string, ready, desired int32) {
		total[ns]++
		if ready < desired {
			notReady[ns] = append(notReady[ns], fmt.Sprintf("%s %d/%d", ref, ready, desired))
		}
	}
	for _, d := range deps {
		desired := int32(1)
		if d.Spec.Replicas != nil {
			desired = *d.Spec.Replicas
		}
		count(d.Namespace, "deployment/"+d.Name, d.Status.ReadyReplicas, desired)
	}
	for _, x := range sts {
		desired := int32(1)
		if x.Spec.Replicas != nil {
			desired = *x.Spec.Replicas
		}
		count(x.Namespace, "statefulset/"+x.Name, x.Status.ReadyReplicas, desired)
	}
	if total["kubeflow"] == 0 {
		return []checks.Result{checks.NotInstalled("no workloads in namespace kubeflow: Kubeflow is not installed", install)}
	}
	var rs []checks.Result
	for _, ns := range Namespaces {
		if total[ns] == 0 {
			continue
		}
		if bad := notReady[ns]; len(bad) > 0 {
			sort.Strings(bad)
			rs = append(rs, checks.Fail(fmt.Sprintf("namespace %s: %d of %d workloads not ready: %s", ns, len(bad), total[ns], strings.Join(bad, ", ")),
				fmt.Sprintf("kubectl get pods -n %s; kubectl describe pod -n %s POD (\"too many open files\" in logs: raise fs.inotify.max_user_instances and max_user_watches on the nodes, see the runbook)", ns, ns)))
			continue
		}
		rs = append(rs, checks.Pass("namespace %s: %d workloads ready", ns, total[ns]))
	}
	return rs
}

func ingressAddress(s *checks.Snapshot) []checks.Result {
	svcs, err := checks.ListAs[corev1.Service](s, ServicesGVR)
	if err != nil {
		return []checks.Result{checks.CannotEvaluate(err, "the caller needs list on services in all namespaces")}
	}
	for _, svc := range svcs {
		if svc.Namespace != "istio-system" || svc.Name != "istio-ingressgateway" {
			continue
		}
		pf := "meanwhile: kubectl port-forward -n istio-system svc/istio-ingressgateway 8080:80"
		if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
			return []checks.Result{checks.Fail(fmt.Sprintf("istio-system/istio-ingressgateway is %s: the dashboard has no external address", svc.Spec.Type),
				"re-run `kubectl flexigrobots kubeflow --ingress-service-type LoadBalancer` (with `kubectl flexigrobots lb` for the IPs); "+pf)}
		}
		for _, ing := range svc.Status.LoadBalancer.Ingress {
			if ing.IP != "" || ing.Hostname != "" {
				return []checks.Result{checks.Pass("istio-system/istio-ingressgateway is LoadBalancer at %s%s", ing.IP, ing.Hostname)}
			}
		}
		// Whether a LoadBalancer gets its address is the load balancer's condition, checked once,
		// by LB-005 (an error there); here it is only a note, so one condition has one severity.
		return []checks.Result{checks.Note("istio-system/istio-ingressgateway is LoadBalancer, waiting for an external IP (LB-005 checks the load balancer)",
			"install a load balancer with `kubectl flexigrobots lb --addresses ...`; "+pf)}
	}
	return []checks.Result{checks.Fail("no Service istio-system/istio-ingressgateway", install)}
}

func dexConnector(s *checks.Snapshot) []checks.Result {
	cms, err := checks.ListAs[corev1.ConfigMap](s, ConfigMapsGVR)
	if err != nil {
		return []checks.Result{checks.CannotEvaluate(err, "the caller needs list on configmaps in all namespaces")}
	}
	for _, cm := range cms {
		if cm.Namespace != "auth" || cm.Name != "dex" {
			continue
		}
		var cfg struct {
			Connectors []struct {
				Type, ID string
				Config   map[string]any
			}
			EnablePasswordDB bool `json:"enablePasswordDB"`
		}
		if err := yaml.Unmarshal([]byte(cm.Data["config.yaml"]), &cfg); err != nil {
			return []checks.Result{checks.Fail("ConfigMap auth/dex: config.yaml does not parse: "+err.Error(), install)}
		}
		if len(cfg.Connectors) == 0 {
			return []checks.Result{checks.Fail("dex has no connector: only its password database (static example user) can log in",
				"re-run `kubectl flexigrobots kubeflow` with --github-client-id, --github-client-secret-file, --github-org and --github-redirect-uri")}
		}
		var rs []checks.Result
		for _, c := range cfg.Connectors {
			if sec, _ := c.Config["clientSecret"].(string); sec != "" && !strings.HasPrefix(sec, "$") {
				rs = append(rs, checks.Warning(fmt.Sprintf("dex connector %s holds its client secret in ConfigMap auth/dex", c.ID),
					"keep it in a Secret referenced by environment: re-run `kubectl flexigrobots kubeflow --github-client-secret-file FILE`"))
				continue
			}
			rs = append(rs, checks.Pass("dex connector %s (%s), password database %v", c.ID, c.Type, cfg.EnablePasswordDB))
		}
		return rs
	}
	return []checks.Result{checks.Fail("no ConfigMap auth/dex", install)}
}
