// Package checks is the verification framework behind `kubectl flexigrobots verify` and the
// post-conditions of every section command.
//
// A Check has a stable ID (SECTION-NNN, e.g. CLUSTER-003), a section, a title, the severity of
// its failures and a pure Run(*Snapshot) []Result. Checks never talk to the cluster: a Collector
// gathers one Snapshot for all the checks of a run, with ONE paged LIST per resource type the
// checks declare (Check.Resources, read through the dynamic client as unstructured objects, so
// custom resources without Go types work too) and each declared Probe run once (Check.Probes:
// the only place where calls that are not LISTs happen, including ones that write, such as the
// CSR-signing probe, which cleans up after itself). A resource type the server does not serve is
// recorded as such (IsNotServed), so a check can say "MetalLB CRDs not installed". A check that
// cannot evaluate (list forbidden, probe failed) returns an Error result with the reason
// (CannotEvaluate); the run goes on with the other checks.
//
// # Adding checks to a section
//
// In the section's own package (e.g. pkg/components/storage/checks.go), declare the checks and
// export them:
//
//	func Checks() []checks.Check {
//		return []checks.Check{{
//			ID: "STORAGE-001", Section: "storage", Title: "NFS provisioner ready",
//			Severity:  checks.Error,
//			Resources: []schema.GroupVersionResource{deploymentsGVR},
//			Run: func(s *checks.Snapshot) []checks.Result {
//				ds, err := checks.ListAs[appsv1.Deployment](s, deploymentsGVR)
//				if err != nil {
//					return []checks.Result{checks.CannotEvaluate(err, "")}
//				}
//				// ... checks.Fail("message naming the objects", "what to do")
//				return []checks.Result{checks.Pass("nfs-subdir-external-provisioner 1/1 ready")}
//			},
//		}}
//	}
//
// Then add one line to pkg/plugin/verify/sections.go, `r.Register(storage.Checks()...)`:
// `verify --section storage` runs them, and the section command reuses them as post-conditions
// with checks.Run(ctx, collector, storage.Checks()). Unit-test each Run over hand-built
// snapshots (NewSnapshot().WithObjects(gvr, objs...), WithNotServed, WithListError, WithProbe):
// no cluster needed.
package checks
