// Package version implements `kubectl flexigrobots version`.
package version

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/internal/buildinfo"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
)

// ClientInfo describes the plugin binary.
type ClientInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// ServerInfo describes the cluster's Kubernetes version.
type ServerInfo struct {
	GitVersion string `json:"gitVersion"`
	Major      string `json:"major"`
	Minor      string `json:"minor"`
	Platform   string `json:"platform"`
}

// Info is what `version -o json|yaml` prints.
type Info struct {
	Client ClientInfo  `json:"clientVersion"`
	Server *ServerInfo `json:"serverVersion,omitempty"`
}

// Options holds the flags of `version`.
type Options struct {
	ClientOnly bool
	Output     string

	factory *kube.Factory
	streams genericiooptions.IOStreams
}

// NewCmdVersion builds `kubectl flexigrobots version`.
func NewCmdVersion(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &Options{factory: f, streams: streams, Output: "table"}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the plugin version and the cluster's Kubernetes version",
		Example: `  kubectl flexigrobots version
  kubectl flexigrobots version --client
  kubectl flexigrobots version -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run()
		},
	}
	cmd.Flags().BoolVar(&o.ClientOnly, "client", false, "Print only the plugin version; do not contact the cluster")
	cmdutil.AddOutputFlag(cmd, &o.Output, output.Table, output.JSON, output.YAML)
	return cmd
}

// Validate checks the flags.
func (o *Options) Validate() error {
	return output.Validate(o.Output, output.Table, output.JSON, output.YAML)
}

// Run prints the versions. The client part is printed even when the server cannot be reached.
func (o *Options) Run() error {
	info := Info{Client: ClientInfo{
		Version:   buildinfo.Version,
		Commit:    buildinfo.CommitOrVCS(),
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}}
	var serverErr error
	if !o.ClientOnly {
		serverErr = o.fetchServer(&info)
	}
	if o.Output == output.Table {
		fmt.Fprintf(o.streams.Out, "Plugin Version: %s (commit %s, %s, %s)\n", info.Client.Version, info.Client.Commit, info.Client.GoVersion, info.Client.Platform)
		if info.Server != nil {
			fmt.Fprintf(o.streams.Out, "Server Version: %s\n", info.Server.GitVersion)
		}
	} else if err := output.Print(o.streams.Out, o.Output, info); err != nil {
		return err
	}
	if errors.Is(serverErr, kube.ErrNoCluster) {
		return fmt.Errorf("version: %w (--client prints the plugin's version alone)", serverErr)
	}
	if serverErr != nil {
		return fmt.Errorf("version: reading the server version: %w (use --client to skip the server)", serverErr)
	}
	return nil
}

func (o *Options) fetchServer(info *Info) error {
	// No kubeconfig: the one line every command says (where it looked, what to do).
	if err := o.factory.CheckKubeconfig(); err != nil {
		return err
	}
	dc, err := o.factory.ToDiscoveryClient()
	if err != nil {
		return err
	}
	v, err := dc.ServerVersion()
	if err != nil {
		return err
	}
	info.Server = &ServerInfo{GitVersion: v.GitVersion, Major: v.Major, Minor: v.Minor, Platform: v.Platform}
	return nil
}
