package kubeflow

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// storeSecrets are the store Secrets: the pipelines object store's keys (the same Secret and
// published values in every release; minio takes an access key of at most 20 characters and a
// secret key of at most 40, SeaweedFS any) and Katib's MySQL root password. An unknown store
// (ObjectStore{}) gets the texts of both.
func storeSecrets(store ObjectStore) []StoreSecret {
	what, rotate := "Kubeflow Pipelines' object store", "with minio: "+minioStore.Rotate+"; with SeaweedFS: "+seaweedStore.Rotate
	if store.Name != "" {
		what, rotate = what+" ("+store.Name+")", store.Rotate
	}
	return []StoreSecret{
		{Namespace: "kubeflow", Name: "mlpipeline-minio-artifact", What: what,
			Keys:   []GeneratedKey{{Key: "accesskey", Bytes: 10, Public: "minio"}, {Key: "secretkey", Bytes: 20, Public: "minio123"}},
			Rotate: rotate},
		{Namespace: "kubeflow", Name: "katib-mysql-secrets", What: "Katib's MySQL",
			Keys:   []GeneratedKey{{Key: "MYSQL_ROOT_PASSWORD", Bytes: 16, Public: "test"}},
			Rotate: "ALTER USER root in katib-mysql, then set the Secret and restart katib-db-manager"},
	}
}

// objectStores are the stores releases run, newest first.
var objectStores = []ObjectStore{seaweedStore, minioStore}

// liveStore is the object store running in the cluster (its Deployment exists), ObjectStore{}
// when none does or it cannot be read.
func liveStore(ctx context.Context, c kubernetes.Interface) ObjectStore {
	if c == nil {
		return ObjectStore{}
	}
	for _, st := range objectStores {
		_, err := c.AppsV1().Deployments(st.Workload.Namespace).Get(ctx, st.Workload.Name, metav1.GetOptions{})
		if err == nil {
			return st
		}
		if !apierrors.IsNotFound(err) {
			return ObjectStore{}
		}
	}
	return ObjectStore{}
}

// ownBuildSecrets takes out of the build the Secrets converge generates: the store Secrets and,
// unless the example user is kept, dex-passwords (v1.9 and later: the static user's password
// hash). It returns the objects left, the refs taken (Built.Owned) and an edit for each.
func ownBuildSecrets(objs []*unstructured.Unstructured, p Profile, e Edits) ([]*unstructured.Unstructured, []string, []Edit) {
	owned := map[string]string{}
	for _, s := range storeSecrets(p.ObjectStore) {
		owned[s.Ref()] = fmt.Sprintf("Secret %s left to converge: generated credentials for %s instead of the published ones", s.Ref(), s.What)
	}
	if p.DexHash.Name != "" && !e.ExampleUser {
		why := fmt.Sprintf("the hash of a generated password for dex's static user (the password in Secret %s/%s)", DexUserNamespace, DexUserSecret)
		if !e.passwordDB() {
			why = "a hash no one logs in with (the static user is removed; dex reads the Secret at start), never the published password's"
		}
		owned[p.DexHash.Namespace+"/"+p.DexHash.Name] = fmt.Sprintf("Secret %s/%s left to converge: %s", p.DexHash.Namespace, p.DexHash.Name, why)
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
// values when the Secret exists (warning when they are the published ones, with how to change
// them in the store that runs: a first install has no store yet) or generated ones.
func storeCredentials(ctx context.Context, c kubernetes.Interface, owned []string) (objs []*unstructured.Unstructured, notes, warnings []string, err error) {
	has := map[string]bool{}
	for _, r := range owned {
		has[r] = true
	}
	for _, s := range storeSecrets(ObjectStore{}) {
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
			if s.Name == "mlpipeline-minio-artifact" {
				if st := liveStore(ctx, c); st.Name != "" {
					s.What, s.Rotate = s.What+" ("+st.Name+")", st.Rotate
				}
			}
			warnings = append(warnings, fmt.Sprintf("%s still uses the published credentials (Secret %s keys %v, from an install before this plugin generated them): kept, since the store holds them in its data; to change them, %s", s.What, s.Ref(), public, s.Rotate))
		}
		objs = append(objs, secretObject(s.Namespace, s.Name, data))
	}
	return objs, notes, warnings, nil
}

// liveData returns a Secret's data as strings, nil when it does not exist (or c is nil: a client
// dry run without a cluster).
func liveData(ctx context.Context, c kubernetes.Interface, ns, name string) (map[string]string, error) {
	data, _, err := liveSecret(ctx, c, ns, name)
	return data, err
}

// liveSecret is liveData with the Secret's identity (see objectStamp; "" when it is absent).
func liveSecret(ctx context.Context, c kubernetes.Interface, ns, name string) (data map[string]string, from string, err error) {
	if c == nil {
		return nil, "", nil
	}
	s, err := getSecret(ctx, c, ns, name)
	if err != nil || s == nil {
		return nil, "", err
	}
	out := map[string]string{}
	for k, v := range s.Data {
		out[k] = string(v)
	}
	return out, objectStamp(string(s.UID), s.ResourceVersion), nil
}
