package gpu

import (
	"context"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// handMadeConfigs deals with the time-slicing ConfigMaps made by hand that the device plugin no
// longer reads: those any revision of release (and pointed, what it read before this run) named
// in devicePlugin.config.name, other than reads (what it reads now, "" for none) and ours. The
// runbook makes one (`kubectl create configmap time-slicing` + `helm upgrade --set
// devicePlugin.config.name=time-slicing`). Each that still exists is deleted with PruneAdopted
// (a dry run reports it), otherwise named in a note and kept: this section never made it.
func (in *installer) handMadeConfigs(ctx context.Context, namespace, release, pointed, reads, ours string) (*output.Report, error) {
	names, err := in.configsNamed(namespace, release)
	if err != nil {
		return nil, err
	}
	if pointed != "" && !slices.Contains(names, pointed) {
		names = append(names, pointed)
	}
	rep := &output.Report{}
	for _, name := range names {
		if name == reads || name == ours {
			continue
		}
		cm, err := in.Clients.Client.CoreV1().ConfigMaps(namespace).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("gpu: get ConfigMap %s/%s: %w", namespace, name, err)
		}
		if cm.Labels[kube.ManagedByLabel] == kube.FieldManager {
			continue // made by this plugin under another --config-name: not one made by hand
		}
		now := "reads none"
		if reads != "" {
			now = "reads " + reads
		}
		if !in.PruneAdopted {
			rep.Notes = append(rep.Notes, fmt.Sprintf("ConfigMap %s/%s, made by hand, is no longer read by the device plugin (it %s): kept; --prune-adopted deletes it", namespace, name, now))
			continue
		}
		res, err := in.deleteConfigMap(ctx, cm, "made by hand, no longer read (--prune-adopted)")
		if err != nil {
			return nil, err
		}
		rep.Add(*res)
	}
	return rep, nil
}

// configsNamed lists the devicePlugin.config.name values of every stored revision of release,
// oldest first, without repeats.
func (in *installer) configsNamed(namespace, release string) ([]string, error) {
	revs, err := in.Helm.History(namespace, release)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, r := range revs {
		cfg, _ := devicePluginConfig(r.Config)
		if name, _ := cfg["name"].(string); name != "" && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names, nil
}
