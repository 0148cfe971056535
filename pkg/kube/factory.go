package kube

import (
	"k8s.io/cli-runtime/pkg/genericclioptions"
	kcmdutil "k8s.io/kubectl/pkg/cmd/util"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/diff"
)

// Factory is kubectl's factory over the root's ConfigFlags: the one source of REST config, dynamic
// client, clientset, discovery and RESTMapper for every command (and for helm, see pkg/helm).
type Factory struct {
	kcmdutil.Factory
	// ConfigFlags are the root's kubeconfig flags; helm's action.Configuration is fed from them.
	ConfigFlags *genericclioptions.ConfigFlags
	// Diff, set for the run of a command with --diff (or of `diff`), collects what its server-side
	// dry run would change; the clients built from this factory record into it.
	Diff *diff.Recorder
}

// NewFactory wraps the root's ConfigFlags. Nothing talks to the cluster until a method is called.
func NewFactory(flags *genericclioptions.ConfigFlags) *Factory {
	return &Factory{Factory: kcmdutil.NewFactory(kcmdutil.NewMatchVersionFlags(flags)), ConfigFlags: flags}
}
