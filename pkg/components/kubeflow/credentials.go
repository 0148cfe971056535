package kubeflow

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

// StoreSecret is a Secret the manifests ship with published values, read by a component that
// keeps the credential in its own data once it has started (minio's config, MySQL's data
// directory). The build leaves it out and converge creates it: generated values on a first
// install, the cluster's values after that, since changing them under a running store would
// lock its clients out. A store already running on the published values is warned about, not
// changed.
type StoreSecret struct {
	Namespace, Name string
	// What names the component, for notes and warnings.
	What string
	// Keys are the data keys, each generated from its own random bytes.
	Keys []GeneratedKey
	// Rotate says how to change the credential by hand once the store runs.
	Rotate string
}

// GeneratedKey is one data key of a StoreSecret: Bytes random bytes, hex-encoded; Public is the
// value the manifests ship.
type GeneratedKey struct {
	Key    string
	Bytes  int
	Public string
}

// Ref is the Secret's namespace/name.
func (s StoreSecret) Ref() string { return s.Namespace + "/" + s.Name }

// storeSecrets are the same in every supported version: the pipelines object store's keys
// (minio takes an access key of at most 20 characters and a secret key of at most 40) and
// Katib's MySQL root password.
var storeSecrets = []StoreSecret{
	{Namespace: "kubeflow", Name: "mlpipeline-minio-artifact", What: "Kubeflow Pipelines' object store (minio)",
		Keys:   []GeneratedKey{{Key: "accesskey", Bytes: 10, Public: "minio"}, {Key: "secretkey", Bytes: 20, Public: "minio123"}},
		Rotate: "set new keys in minio (mc admin), then in the Secret, and restart minio, ml-pipeline, ml-pipeline-ui and the pipelines profile controller"},
	{Namespace: "kubeflow", Name: "katib-mysql-secrets", What: "Katib's MySQL",
		Keys:   []GeneratedKey{{Key: "MYSQL_ROOT_PASSWORD", Bytes: 16, Public: "test"}},
		Rotate: "ALTER USER root in katib-mysql, then set the Secret and restart katib-db-manager"},
}

// ownBuildSecrets takes out of the build the Secrets converge generates: the store Secrets and,
// unless the example user is kept, v1.10's dex-passwords (the static user's password hash). It
// returns the objects left, the refs taken (Built.Owned) and an edit for each.
func ownBuildSecrets(objs []*unstructured.Unstructured, p Profile, e Edits) ([]*unstructured.Unstructured, []string, []Edit) {
	owned := map[string]string{}
	for _, s := range storeSecrets {
		owned[s.Ref()] = fmt.Sprintf("Secret %s left to converge: generated credentials for %s instead of the published ones", s.Ref(), s.What)
	}
	if p.DexHash.Name != "" && !e.ExampleUser {
		owned[p.DexHash.Namespace+"/"+p.DexHash.Name] = fmt.Sprintf("Secret %s/%s left to converge: the hash of a generated password for dex's static user (the password in Secret %s/%s)", p.DexHash.Namespace, p.DexHash.Name, DexUserNamespace, DexUserSecret)
	}
	var kept []*unstructured.Unstructured
	var refs []string
	var edits []Edit
	for _, o := range objs {
		ref := o.GetNamespace() + "/" + o.GetName()
		if why, ok := owned[ref]; ok && kube.IsSecret(o) {
			refs = append(refs, ref)
			edits = append(edits, Edit{File: "(build)", What: why})
			continue
		}
		kept = append(kept, o)
	}
	return kept, refs, edits
}

// storeCredentials returns the store Secrets the build left to converge, each with the live
// values when the Secret exists (warning when they are the published ones) or generated ones.
func storeCredentials(ctx context.Context, c kubernetes.Interface, owned []string) (objs []*unstructured.Unstructured, notes, warnings []string, err error) {
	has := map[string]bool{}
	for _, r := range owned {
		has[r] = true
	}
	for _, s := range storeSecrets {
		if !has[s.Ref()] {
			continue
		}
		live, err := liveData(ctx, c, s.Namespace, s.Name)
		if err != nil {
			return nil, nil, nil, err
		}
		data, public := map[string]string{}, []string{}
		for _, k := range s.Keys {
			v, ok := live[k.Key]
			if !ok || v == "" {
				v = randomHex(k.Bytes)
			} else if v == k.Public {
				public = append(public, k.Key)
			}
			data[k.Key] = v
		}
		switch {
		case live == nil:
			notes = append(notes, fmt.Sprintf("%s: credentials generated in Secret %s (not the published ones)", s.What, s.Ref()))
		case len(public) > 0:
			warnings = append(warnings, fmt.Sprintf("%s still uses the published credentials (Secret %s keys %v, from an install before this plugin generated them): kept, since the store holds them in its data; to change them, %s", s.What, s.Ref(), public, s.Rotate))
		}
		objs = append(objs, secretObject(s.Namespace, s.Name, data))
	}
	return objs, notes, warnings, nil
}

// liveData returns a Secret's data as strings, nil when it does not exist (or c is nil: a client
// dry run without a cluster).
func liveData(ctx context.Context, c kubernetes.Interface, ns, name string) (map[string]string, error) {
	if c == nil {
		return nil, nil
	}
	s, err := getSecret(ctx, c, ns, name)
	if err != nil || s == nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range s.Data {
		out[k] = string(v)
	}
	return out, nil
}
