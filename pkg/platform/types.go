// Package platform reads the platform file (plugins.yaml, kind Platform): it validates it with the
// published JSON Schema and the sections' own rules, reporting every error with the file's line
// and column, and runs its sections in dependency order through the same component code as the
// sections' commands. No cobra here: the command is pkg/plugin/apply.
package platform

// APIVersion and Kind of the platform file.
const (
	APIVersion = "flexigrobots.io/v1alpha1"
	Kind       = "Platform"
)

// File is the platform file as written (see schema/platform.schema.json).
type File struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	Spec       Spec     `json:"spec"`
}

// Metadata names the platform.
type Metadata struct {
	Name string `json:"name"`
}

// Spec has one block per section; a nil block is a section the file does not declare.
type Spec struct {
	Storage  *StorageBlock  `json:"storage,omitempty"`
	LB       *LBBlock       `json:"lb,omitempty"`
	Kubeflow *KubeflowBlock `json:"kubeflow,omitempty"`
	TLS      *TLSBlock      `json:"tls,omitempty"`
	GPU      *GPUBlock      `json:"gpu,omitempty"`
	Profiles *ProfilesBlock `json:"profiles,omitempty"`
}

// Chart is the chart flags of a helm-based section.
type Chart struct {
	Repo        string         `json:"repo,omitempty"`
	Version     string         `json:"version,omitempty"`
	Chart       string         `json:"chart,omitempty"`
	Set         map[string]any `json:"set,omitempty"`
	ValuesFiles []string       `json:"valuesFiles,omitempty"`
	// Repository access (the --chart-* flags of the same meaning); files relative to the file.
	Username              string `json:"username,omitempty"`
	PasswordFile          string `json:"passwordFile,omitempty"`
	CAFile                string `json:"caFile,omitempty"`
	CertFile              string `json:"certFile,omitempty"`
	KeyFile               string `json:"keyFile,omitempty"`
	InsecureSkipTLSVerify bool   `json:"insecureSkipTLSVerify,omitempty"`
	Verify                bool   `json:"verify,omitempty"`
	Keyring               string `json:"keyring,omitempty"`
}

// StorageBlock is `storage`.
type StorageBlock struct {
	NFSServer        string `json:"nfsServer"`
	NFSPath          string `json:"nfsPath"`
	StorageClass     string `json:"storageClass,omitempty"`
	ReleaseNamespace string `json:"releaseNamespace,omitempty"`
	Default          *bool  `json:"default,omitempty"`
	SmokeTest        bool   `json:"smokeTest,omitempty"`
	Chart            Chart  `json:"chart,omitempty"`
}

// LBBlock is `lb`.
type LBBlock struct {
	Addresses        []string `json:"addresses"`
	Pool             string   `json:"pool,omitempty"`
	L2Advertisement  string   `json:"l2Advertisement,omitempty"`
	ReleaseNamespace string   `json:"releaseNamespace,omitempty"`
	ReleaseName      string   `json:"releaseName,omitempty"`
	ServiceCIDRs     []string `json:"serviceCIDRs,omitempty"`
	FixStrictARP     bool     `json:"fixStrictARP,omitempty"`
	Probe            bool     `json:"probe,omitempty"`
	Chart            Chart    `json:"chart,omitempty"`
}

// KubeflowBlock is `kubeflow`.
type KubeflowBlock struct {
	Version            string       `json:"version,omitempty"`
	Manifests          string       `json:"manifests,omitempty"`
	OIDCProvider       string       `json:"oidcProvider,omitempty"`
	RegistrationFlow   bool         `json:"registrationFlow,omitempty"`
	IngressServiceType string       `json:"ingressServiceType,omitempty"`
	DexIssuer          string       `json:"dexIssuer,omitempty"`
	EnablePasswordDB   *bool        `json:"enablePasswordDB,omitempty"`
	ExampleUser        bool         `json:"exampleUser,omitempty"`
	ContainerRuntime   string       `json:"containerRuntime,omitempty"`
	ForceConflicts     bool         `json:"forceConflicts,omitempty"`
	GitHub             *GitHubBlock `json:"github,omitempty"`
}

// GitHubBlock is dex's GitHub connector; the client secret only as a file.
type GitHubBlock struct {
	ClientID         string   `json:"clientID"`
	ClientSecretFile string   `json:"clientSecretFile"`
	Org              string   `json:"org"`
	Teams            []string `json:"teams,omitempty"`
	RedirectURI      string   `json:"redirectURI"`
}

// TLSBlock is `tls`: exactly one of Manual and ACME.
type TLSBlock struct {
	Domain string     `json:"domain"`
	Manual *TLSManual `json:"manual,omitempty"`
	ACME   *TLSACME   `json:"acme,omitempty"`
}

// TLSManual is a certificate and key the user has, as files.
type TLSManual struct {
	CertFile     string `json:"certFile"`
	KeyFile      string `json:"keyFile"`
	SecretName   string `json:"secretName,omitempty"`
	Wildcard     bool   `json:"wildcard,omitempty"`
	HTTPRedirect bool   `json:"httpRedirect,omitempty"`
}

// TLSACME is a certificate from an ACME server (Let's Encrypt) through cert-manager.
type TLSACME struct {
	Email  string `json:"email"`
	Server string `json:"server,omitempty"`
}

// GPUBlock is `gpu`: the operator always, time-slicing when Slicing is set.
type GPUBlock struct {
	Operator *GPUOperator `json:"operator,omitempty"`
	Slicing  *GPUSlicing  `json:"slicing,omitempty"`
}

// GPUOperator is `gpu operator`.
type GPUOperator struct {
	ReleaseNamespace string `json:"releaseNamespace,omitempty"`
	DriverEnabled    bool   `json:"driverEnabled,omitempty"`
	Chart            Chart  `json:"chart,omitempty"`
}

// GPUSlicing is `gpu slicing`.
type GPUSlicing struct {
	Replicas                   int    `json:"replicas"`
	RenameByDefault            bool   `json:"renameByDefault,omitempty"`
	FailRequestsGreaterThanOne bool   `json:"failRequestsGreaterThanOne,omitempty"`
	ConfigName                 string `json:"configName,omitempty"`
}

// ProfilesBlock is `profile poddefault`: every profile namespace, or the ones listed.
type ProfilesBlock struct {
	AllProfiles bool     `json:"allProfiles,omitempty"`
	Namespaces  []string `json:"namespaces,omitempty"`
}
