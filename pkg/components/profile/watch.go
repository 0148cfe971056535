package profile

import (
	"context"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// Watcher keeps every profile namespace covered while it runs: client-go informers on Profiles
// and namespaces (metadata only; one LIST and one WATCH each, resumed by the informers after a
// dropped connection or an API server restart) feed a work queue of namespace names. After the
// caches sync, one pass covers every existing profile namespace (as --all-profiles); then each
// namespace that appears for a Profile, or each Profile that appears for an existing namespace,
// gets the PodDefault. Failed applies are retried with backoff.
type Watcher struct {
	Installer *Installer
	// Report receives the results of each pass (the command prints them on stdout).
	Report func(*output.Report) error
	// Timeout bounds one apply pass (it is retried after that).
	Timeout time.Duration

	mu      sync.Mutex
	covered map[string]bool
	waiting map[string]bool
}

// Run watches until ctx ends (Ctrl-C or SIGTERM in the command), then returns nil.
func (w *Watcher) Run(ctx context.Context) error {
	w.covered, w.waiting = map[string]bool{}, map[string]bool{}
	c := w.Installer.Clients
	p := w.Installer.Progress
	factory := metadatainformer.NewSharedInformerFactory(c.Metadata, 0)
	profiles := factory.ForResource(ProfilesGVR).Informer()
	namespaces := factory.ForResource(NamespacesGVR).Informer()
	queue := workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "profile-poddefault"})
	defer queue.ShutDown()

	enqueue := func(obj any) {
		if m, err := objectMeta(obj); err == nil {
			queue.Add(m.GetName())
		}
	}
	onNamespaceDelete := func(obj any) {
		if m, err := objectMeta(obj); err == nil {
			w.mu.Lock()
			delete(w.covered, m.GetName()) // a Profile made again gets its new namespace covered
			w.mu.Unlock()
		}
	}
	if _, err := profiles.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: enqueue}); err != nil {
		return err
	}
	if _, err := namespaces.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: enqueue, UpdateFunc: func(_, obj any) { enqueue(obj) }, DeleteFunc: onNamespaceDelete,
	}); err != nil {
		return err
	}
	for name, inf := range map[string]cache.SharedIndexInformer{"Profiles": profiles, "namespaces": namespaces} {
		_ = inf.SetWatchErrorHandler(w.watchErrorHandler(name))
	}

	p.Logf("profile: watching Profiles and namespaces on %s; every profile namespace gets PodDefault %s (Ctrl-C or SIGTERM stops)", c.Config.Host, PodDefaultName)
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), profiles.HasSynced, namespaces.HasSynced) {
		return nil // ctx ended before the first LIST answered
	}
	for !w.initialPass(ctx, profiles, namespaces) {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(5 * time.Second):
		}
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for w.next(ctx, queue, profiles, namespaces) {
			}
		}()
	}
	<-ctx.Done()
	queue.ShutDown()
	wg.Wait()
	p.Logf("profile: stopped watching")
	return nil
}

// inventory builds the Inventory from the informers' caches (no request).
func inventory(profiles, namespaces cache.SharedIndexInformer) *Inventory {
	inv := &Inventory{Profiles: map[string]bool{}, Namespaces: map[string]*metav1.PartialObjectMetadata{}}
	for _, obj := range profiles.GetStore().List() {
		if m, ok := obj.(*metav1.PartialObjectMetadata); ok {
			inv.Profiles[m.Name] = true
		}
	}
	for _, obj := range namespaces.GetStore().List() {
		if m, ok := obj.(*metav1.PartialObjectMetadata); ok {
			inv.Namespaces[m.Name] = m
		}
	}
	return inv
}

// initialPass covers every existing profile namespace in one apply; false when it must be tried
// again.
func (w *Watcher) initialPass(ctx context.Context, profiles, namespaces cache.SharedIndexInformer) bool {
	inv := inventory(profiles, namespaces)
	targets, pending := inv.AllProfiles()
	for _, name := range pending {
		w.noteWaiting(name)
	}
	if len(targets) == 0 {
		return true
	}
	pctx, cancel := context.WithTimeout(ctx, w.Timeout)
	defer cancel()
	rep, err := w.Installer.Apply(pctx, targets, nil)
	w.done(rep)
	if err != nil {
		if ctx.Err() == nil {
			w.Installer.Progress.Logf("warning: profile: %v (retrying)", err)
		}
		return false
	}
	return true
}

// next handles one namespace name from the queue; false once the queue is shut down.
func (w *Watcher) next(ctx context.Context, queue workqueue.TypedRateLimitingInterface[string], profiles, namespaces cache.SharedIndexInformer) bool {
	name, quit := queue.Get()
	if quit {
		return false
	}
	defer queue.Done(name)
	w.mu.Lock()
	covered := w.covered[name]
	w.mu.Unlock()
	if covered {
		queue.Forget(name)
		return true
	}
	inv := inventory(profiles, namespaces)
	if !inv.Profiles[name] {
		return true // a namespace no Profile owns
	}
	if !inv.IsProfileNamespace(name) {
		w.noteWaiting(name)
		return true // its namespace's Add event brings it back
	}
	targets, _ := inv.Resolve([]string{name})
	pctx, cancel := context.WithTimeout(ctx, w.Timeout)
	defer cancel()
	live, err := w.livePodDefault(pctx, name)
	var rep *output.Report
	if err == nil {
		rep, err = w.Installer.Apply(pctx, targets, live)
		w.done(rep)
	}
	if err != nil {
		if ctx.Err() == nil {
			w.Installer.Progress.Logf("warning: profile: namespace %s: %v (retrying)", name, err)
			queue.AddRateLimited(name)
		}
		return true
	}
	queue.Forget(name)
	return true
}

// livePodDefault reads the PodDefault of one new namespace (nil map entry when there is none).
func (w *Watcher) livePodDefault(ctx context.Context, ns string) (map[string]*unstructured.Unstructured, error) {
	live := map[string]*unstructured.Unstructured{}
	err := kube.Retry(ctx, func(ctx context.Context) error {
		o, err := w.Installer.Clients.Dynamic.Resource(PodDefaultsGVR).Namespace(ns).Get(ctx, PodDefaultName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err == nil {
			live[ns] = o
		}
		return err
	})
	return live, err
}

// done marks the reported namespaces covered and hands the report on.
func (w *Watcher) done(rep *output.Report) {
	if rep == nil || len(rep.Results) == 0 {
		return
	}
	w.mu.Lock()
	for _, r := range rep.Results {
		w.covered[r.Namespace] = true
		delete(w.waiting, r.Namespace)
	}
	w.mu.Unlock()
	if err := w.Report(rep); err != nil {
		w.Installer.Progress.Logf("warning: profile: cannot print the results: %v", err)
	}
}

func (w *Watcher) noteWaiting(name string) {
	w.mu.Lock()
	first := !w.waiting[name]
	w.waiting[name] = true
	w.mu.Unlock()
	if first {
		w.Installer.Progress.Logf("profile: Profile %s has no namespace yet: covering it when the profile controller creates it", name)
	}
}

// watchErrorHandler logs a dropped LIST or WATCH at most every 30 s per informer; the informer
// itself keeps retrying with backoff.
func (w *Watcher) watchErrorHandler(what string) cache.WatchErrorHandler {
	var last time.Time
	var mu sync.Mutex
	return func(_ *cache.Reflector, err error) {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(last) < 30*time.Second {
			return
		}
		last = time.Now()
		w.Installer.Progress.Logf("warning: profile: watch of %s interrupted (%v); resuming when the API server answers", what, err)
	}
}

func objectMeta(obj any) (metav1.Object, error) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("unexpected %T", obj)
	}
	return m, nil
}
