package apply

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/images/mirror"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
)

// mirrorOptions are `images mirror`'s flags.
type mirrorOptions struct {
	ImagesOptions
	ImagesFile, From, To, Platform string
	Jobs                           int
	Access                         mirror.Access
}

// newCmdMirror builds `kubectl flexigrobots images mirror`.
func newCmdMirror(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &mirrorOptions{ImagesOptions: ImagesOptions{factory: f, streams: streams}}
	cmd := &cobra.Command{
		Use:   "mirror (-f plugins.yaml | --images FILE | --from oci:DIR|FILE.tar) --to REGISTRY[/PREFIX]|oci:DIR|FILE.tar",
		Short: "Copy every image the platform runs to a private registry, or to a folder for a site with no line",
		Long: `Copy the images ` + "`images -f`" + ` lists (or those of a list file, or of a folder an earlier mirror wrote)
to a registry, by digest, with go-containerregistry: multi-platform images whole (every platform)
unless --platform picks one; an image pinned by digest is always copied whole, since its digest
names the whole index. Images are copied --jobs at a time, one line per image on stderr; an image
the destination already holds with the same digest is skipped, and blobs already uploaded are not
sent again, so an interrupted run continues where it stopped.

An image's name in the registry is REGISTRY[/PREFIX]/ and its repository path without the source
registry's host, as RKE2's system-default-registry names them:
ghcr.io/kubeflow/kfp-driver:2.16.0 -> REGISTRY/PREFIX/kubeflow/kfp-driver:2.16.0; Docker Hub's
busybox:stable -> REGISTRY/PREFIX/library/busybox:stable. Two images that would get one name are
refused before anything is copied.

For a site with no line out: --to oci:DIR writes an OCI image layout folder on the connected side
(each image annotated with its source reference), --to FILE.tar the same layout as one tar file
(written whole at the end of the run); carry it in, then
` + "`images mirror --from oci:DIR|FILE.tar --to REGISTRY`" + ` pushes it from there.

Sources are pulled with the docker config's credentials (docker login) and the environment's proxy
and CAs (HTTPS_PROXY, SSL_CERT_FILE). The destination takes the docker config's credentials, or
--registry-username with --registry-password-file (the password only in a file), and
--registry-ca-file or --registry-insecure-skip-tls-verify.

Exit codes: 0 every image copied or already there, 1 an image failed (each named; re-run to retry),
2 invalid input (nothing copied).`,
		Example: `  # Everything the platform runs, into the site's registry
  kubectl flexigrobots images mirror -f plugins.yaml --to registry.example:5000/ai \
    --registry-username robot --registry-password-file ./registry-password --registry-ca-file ./ca.crt

  # No line at the site: a folder on the connected side, then the registry inside
  kubectl flexigrobots images mirror -f plugins.yaml --to oci:./platform-images --platform linux/amd64
  kubectl flexigrobots images mirror --from oci:./platform-images --to registry.example:5000/ai

  # A list edited by hand (one reference a line, as images -o text prints it)
  kubectl flexigrobots images -f plugins.yaml -o text | grep -v notebook-servers > images.txt
  kubectl flexigrobots images mirror --images images.txt --to registry.example:5000/ai`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd.Context()) },
	}
	o.addFlags(cmd, "The platform file whose images are copied (relative paths in it are relative to it)", "Copy the images of", "Leave these sections' images out (comma-separated)")
	fl := cmd.Flags()
	fl.StringVar(&o.ImagesFile, "images", "", "A file of image references to copy, one a line (# comments; - for stdin), e.g. images -o text")
	fl.StringVar(&o.From, "from", "", "Copy what an earlier mirror wrote to this folder or file (oci:DIR or FILE.tar)")
	fl.StringVar(&o.To, "to", "", "Where to copy: REGISTRY[/PREFIX], oci:DIR or FILE.tar")
	fl.StringVar(&o.Platform, "platform", "", "Copy only this platform of multi-platform images (os/arch, e.g. linux/amd64); default every platform")
	fl.IntVar(&o.Jobs, "jobs", 4, "How many images to copy at once")
	fl.StringVar(&o.Access.Username, "registry-username", "", "The destination registry's username (with --registry-password-file)")
	fl.StringVar(&o.Access.PasswordFile, "registry-password-file", "", "A file holding the destination registry's password")
	fl.StringVar(&o.Access.CAFile, "registry-ca-file", "", "The CA certificate (PEM) the destination registry's certificate is checked against")
	fl.BoolVar(&o.Access.InsecureSkipTLSVerify, "registry-insecure-skip-tls-verify", false, "Do not check the destination registry's certificate")
	fl.StringVarP(&o.Output, "output", "o", output.Table, "Output format: table|json|yaml")
	fl.DurationVar(&o.Timeout, "timeout", time.Hour, "Give up after this long")
	_ = cmd.MarkFlagFilename("images")
	_ = cmd.MarkFlagFilename("registry-password-file")
	_ = cmd.MarkFlagFilename("registry-ca-file")
	return cmd
}

// run checks the flags, lists the images and copies them.
func (o *mirrorOptions) run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	m, err := o.mirror()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	var refs []string
	switch {
	case o.ImagesFile != "":
		if refs, err = readList(o.ImagesFile, o.streams.In); err != nil {
			return err
		}
	case o.File != "":
		list, _, progress, err := o.list(ctx)
		if err != nil {
			return err
		}
		m.Progress = progress
		for _, im := range list {
			refs = append(refs, im.Ref)
		}
	}
	if m.Progress == nil {
		m.Progress = output.NewProgress(o.streams.ErrOut)
	}
	results, err := m.Run(ctx, refs)
	if perr := printMirror(o.streams.Out, o.Output, results); perr != nil && err == nil {
		err = perr
	}
	return err
}

// mirror checks the flags (exit 2 on a mistake, before anything is read) and makes the Mirror;
// with -f it loads the platform file.
func (o *mirrorOptions) mirror() (*mirror.Mirror, error) {
	if err := output.Validate(o.Output, output.Table, output.JSON, output.YAML); err != nil {
		return nil, err
	}
	given := 0
	for _, s := range []string{o.File, o.ImagesFile, o.From} {
		if s != "" {
			given++
		}
	}
	if given != 1 {
		return nil, core.UsageErrorf("give exactly one of -f plugins.yaml, --images FILE or --from oci:DIR|FILE.tar")
	}
	if o.To == "" {
		return nil, core.UsageErrorf("--to is required: REGISTRY[/PREFIX] (e.g. registry.example:5000/ai), oci:DIR or FILE.tar")
	}
	to, err := mirror.ParseTarget("--to", o.To)
	if err != nil {
		return nil, err
	}
	if o.Jobs < 1 {
		return nil, core.UsageErrorf("--jobs %d: want 1 or more", o.Jobs)
	}
	m := &mirror.Mirror{To: to, Jobs: o.Jobs, Source: mirror.SourceOptions()}
	if o.From != "" {
		from, err := mirror.ParseTarget("--from", o.From)
		if err != nil {
			return nil, err
		}
		switch {
		case from.Layout == "" && from.Archive == "":
			return nil, core.UsageErrorf("--from %q: want oci:DIR or FILE.tar (what an earlier `images mirror --to` wrote)", o.From)
		case to.Layout != "" || to.Archive != "":
			return nil, core.UsageErrorf("--from copies into a registry: give --to REGISTRY[/PREFIX]")
		case from.Archive != "":
			if _, err := os.Stat(from.Archive); err != nil {
				return nil, core.UsageErrorf("--from: %v", err)
			}
			m.From = from.Archive
		default:
			if _, err := mirror.LayoutRefs(from.Layout); err != nil {
				return nil, core.UsageErrorf("--from: %v", err)
			}
			m.From = from.Layout
		}
	}
	if m.Platform, err = mirror.ParsePlatform(o.Platform); err != nil {
		return nil, err
	}
	if m.Dest, err = o.Access.Options(); err != nil {
		return nil, err
	}
	if o.File != "" {
		if err := o.load("give the platform file, e.g. -f plugins.yaml"); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// readList reads image references, one a line (blank lines and # comments skipped); "-" is in.
func readList(file string, in io.Reader) ([]string, error) {
	r := in
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, core.UsageErrorf("--images: %v", err)
		}
		defer f.Close()
		r = f
	}
	var refs []string
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.ContainsAny(line, " \t") {
			return nil, core.UsageErrorf("--images %s:%d: %q: want one image reference a line", file, n, line)
		}
		refs = append(refs, line)
	}
	if err := sc.Err(); err != nil {
		return nil, core.UsageErrorf("--images: %v", err)
	}
	if len(refs) == 0 {
		return nil, core.UsageErrorf("--images %s: no image reference in it", file)
	}
	return refs, nil
}

// printMirror writes the results as a table (image, target, result, digest), json or yaml.
func printMirror(w io.Writer, format string, results []mirror.Result) error {
	if format != output.Table {
		if results == nil {
			results = []mirror.Result{}
		}
		return output.Print(w, format, map[string]any{"apiVersion": "flexigrobots.io/v1alpha1", "kind": "ImageMirrorResult", "images": results})
	}
	if len(results) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "IMAGE\tTARGET\tRESULT\tDIGEST")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Image, r.Target, r.Action, r.Digest)
	}
	return tw.Flush()
}
