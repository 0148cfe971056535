package versions

// The version matrix: per component, the releases the plugin offers, the Kubernetes minors
// upstream states or tested each on (Stated, with its source), and the hard bounds found in the
// builds and charts (Bounds). Sources are upstream files at the release's tag; where a range
// rests on inference rather than a statement, the comment says GUESS.
//
// The default on a minor is the newest release whose Stated range holds it and whose Bounds
// allow it; where none states the minor (e.g. 1.36 and 1.37 for Kubeflow, 1.37 for the GPU
// operator: no release states them yet), the newest that installs, with a warning.

// Bounds shared by several releases.
var (
	celBound = Bound{Range{From: CELMinor}, "its CRDs carry CEL validation rules (x-kubernetes-validations), served from Kubernetes 1.25"}
	// v1beta1 APIs (apiextensions, admissionregistration, rbac) were removed in 1.22.
	v1beta1Bound = Bound{Range{To: 21}, "it uses apiextensions.k8s.io/v1beta1 CRDs, admissionregistration.k8s.io/v1beta1 webhooks and rbac v1beta1, removed in Kubernetes 1.22"}
	// Istio's ENABLE_NATIVE_SIDECARS=true (istiod) injects proxies as init containers with
	// restartPolicy Always: native sidecars, on by default from 1.29. Reasoned from Istio's
	// documentation of the setting, not tried on a 1.28 cluster.
	nativeSidecarBound = Bound{Range{From: 29}, "istiod runs with ENABLE_NATIVE_SIDECARS=true, whose injected proxies need native sidecar containers (on by default from Kubernetes 1.29)"}
)

// Kubeflow is the kubeflow/manifests releases the kubeflow section has a profile for.
var Kubeflow = Component{
	Section: "kubeflow", What: "Kubeflow", Flag: "--version", OnlyKnown: true,
	Releases: []Release{
		{Version: "v1.5.0", Stated: Range{To: 21}, Source: `README at v1.5.0: "up to 1.21", "not compatible with 1.22 and onwards"`,
			Bounds: []Bound{v1beta1Bound,
				{Range{From: 18}, "its Knative Serving 0.22 controllers exit on Kubernetes older than 1.18"}}},
		{Version: "v1.9.1", Stated: Range{From: 29, To: 31}, Source: `README at v1.9.1: "targets Kubernetes 1.29+"; its CI ran kind v1.31.0`,
			Bounds: []Bound{celBound,
				{Range{From: 26}, "its Knative Serving 1.12 controllers exit on Kubernetes older than 1.26"}}},
		{Version: "v1.10.2", Stated: Range{From: 32, To: 33}, Source: `README at v1.10.2: "targets Kubernetes version 1.32"; its CI ran kind v1.33.1`,
			Bounds: []Bound{celBound, nativeSidecarBound}},
		// "1.34+" read as 1.34: the bundled Istio 1.28 supports 1.30-1.34, and no later minor was tested.
		{Version: "v1.11.0", Stated: Range{From: 34, To: 34}, Source: `README at v1.11.0: "targets Kubernetes version 1.34+"; its CI ran kind v1.34.0`,
			Bounds: []Bound{celBound, nativeSidecarBound}},
		// The README states no number ("consult the release notes", not in the tag). GUESS: 1.34 from
		// its CI, 1.35 from its README's Istio 1.29 and cert-manager 1.19, which support 1.35.
		{Version: "26.03", Stated: Range{From: 34, To: 35}, Source: "no number in README at 26.03; its CI ran kind v1.34.0, its Istio 1.29 and cert-manager 1.19 support up to 1.35",
			Bounds: []Bound{celBound, nativeSidecarBound,
				{Range{From: 33}, "its Knative Serving 1.21 controllers exit on Kubernetes older than 1.33"}}},
	},
}

// GPUOperator is the NVIDIA gpu-operator chart releases. Stated ranges are the Kubernetes column
// of NVIDIA's platform-support page archived for each release. The chart's kubeVersion (>= 1.16)
// stops nothing.
var GPUOperator = Component{
	Section: "gpu", What: "gpu-operator chart", Flag: "--chart-version",
	Releases: []Release{
		{Version: "v23.6.2", Stated: Range{From: 21, To: 27}, Source: "NVIDIA platform support for 23.6"},
		{Version: "v24.9.2", Stated: Range{From: 24, To: 31}, Source: "NVIDIA platform support for 24.9.2", Bounds: []Bound{celBound}},
		{Version: "v25.3.4", Stated: Range{From: 29, To: 33}, Source: "NVIDIA platform support for 25.3", Bounds: []Bound{celBound}},
		{Version: "v25.10.1", Stated: Range{From: 30, To: 35}, Source: "NVIDIA platform support for 25.10 (1.35 from v25.10.1)", Bounds: []Bound{celBound}},
		{Version: "v26.3.3", Stated: Range{From: 32, To: 36}, Source: "NVIDIA platform support for 26.3 (1.36 from v26.3.2)", Bounds: []Bound{celBound}},
		{Version: "v26.7.0", Stated: Range{From: 33, To: 36}, Source: "NVIDIA platform support for 26.7", Bounds: []Bound{celBound}},
	},
}

// bgpASNCaveat: MetalLB before 0.16 declares BGPPeer ASNs as int32 with a maximum above it,
// which Kubernetes 1.36 refuses on create (metallb/metallb#3034).
var bgpASNCaveat = Caveat{Range{From: 36}, "BGPPeer objects are refused (their CRD's ASN fields, metallb/metallb#3034); the L2 mode the lb section configures is not affected, 0.16.1 fixes it"}

// MetalLB is the MetalLB chart releases. Upstream states "Kubernetes 1.13.0 or later" for each.
var MetalLB = Component{
	Section: "lb", What: "MetalLB chart", Flag: "--chart-version",
	Releases: []Release{
		{Version: "0.14.3", Stated: Range{From: 13}, Source: `MetalLB website at v0.14.3: "Kubernetes 1.13.0 or later"`, Caveats: []Caveat{bgpASNCaveat}},
		{Version: "0.15.3", Stated: Range{From: 13}, Source: `MetalLB website at v0.15.3: "Kubernetes 1.13.0 or later"`, Bounds: []Bound{celBound}, Caveats: []Caveat{bgpASNCaveat}},
		{Version: "0.16.1", Stated: Range{From: 13}, Source: `MetalLB website at v0.16.1: "Kubernetes 1.13.0 or later"`, Bounds: []Bound{celBound}},
	},
}

// NFSProvisioner is the nfs-subdir-external-provisioner chart releases. Its PodSecurityPolicy
// template (policy/v1beta1, gone in 1.25) renders only with podSecurityPolicy.enabled, which the
// plugin leaves off.
var NFSProvisioner = Component{
	Section: "storage", What: "nfs-subdir-external-provisioner chart", Flag: "--chart-version",
	Releases: []Release{
		{Version: "4.0.18", Stated: Range{From: 9}, Source: `chart README: "Kubernetes >=1.9"`},
	},
}

// Components lists the matrix, in section order.
var Components = []Component{NFSProvisioner, MetalLB, Kubeflow, GPUOperator}
