// Command mirrorbench times `kubectl flexigrobots images mirror` against a loop of `crane copy`
// (go-containerregistry's own CLI, what a platform team scripts today) over the same list: every
// image Kubeflow 26.03's build runs (read from the fixture's build; the images pinned by digest
// left out, since synthetic images cannot have upstream digests), each a synthetic image of
// --layers layers of --layer-bytes, served by the stand-ins for the public registries
// (test/registries: TLS registries behind an HTTPS proxy on loopback) and copied into a fresh
// private mirror (TLS, basic auth) per run:
//
//	go run ./bench/mirrorbench --plugin bin/kubectl-flexigrobots
//
// Ours: `images mirror --images LIST --to MIRROR/ai` with its defaults (--jobs 4). Theirs: the
// same copies as `crane copy SRC DST` one after the other, and as `xargs -P 4` running four at a
// time (crane has no list mode). Then each side again on the same mirror (nothing to copy).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/flexigrobots/kubectl-flexigrobots/bench/internal/benchkit"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/kubeflow"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/images"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/images/mirror"
	"github.com/flexigrobots/kubectl-flexigrobots/test/registries"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

func main() {
	plugin := flag.String("plugin", "bin/kubectl-flexigrobots", "the plugin binary (make build)")
	crane := flag.String("crane", ".testbin/tools/crane", "the crane binary (go build github.com/google/go-containerregistry/cmd/crane)")
	fixtures := flag.String("fixtures", testbed.DefaultFixturesDir(), "the fixtures folder")
	layerBytes := flag.Int64("layer-bytes", 512<<10, "bytes per synthetic layer")
	layers := flag.Int64("layers", 2, "layers per synthetic image")
	pairs := flag.Int("pairs", 3, "how many runs per side; the median is printed")
	flag.Parse()
	b := &bench{cleanups: nil}
	err := b.run(*plugin, *crane, *fixtures, *layerBytes, *layers, *pairs)
	for i := len(b.cleanups) - 1; i >= 0; i-- {
		b.cleanups[i]()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mirrorbench:", err)
		os.Exit(1)
	}
}

// bench is the registries.T of a command: a failure panics out of run.
type bench struct {
	cleanups []func()
	dirs     []string
}

func (b *bench) Helper()                      {}
func (b *bench) Fatal(args ...any)            { panic(fmt.Sprint(args...)) }
func (b *bench) Fatalf(f string, args ...any) { panic(fmt.Sprintf(f, args...)) }
func (b *bench) Cleanup(fn func())            { b.cleanups = append(b.cleanups, fn) }
func (b *bench) TempDir() string {
	d, err := os.MkdirTemp("", "mirrorbench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func (b *bench) run(plugin, crane, fixtures string, layerBytes, layers int64, pairs int) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	for _, p := range []*string{&plugin, &crane} {
		if *p, err = filepath.Abs(*p); err != nil {
			return err
		}
	}
	refs, err := kubeflowImages(fixtures)
	if err != nil {
		return err
	}
	up := registries.NewUpstream(b)
	pinned := up.SeedSized(refs, layerBytes, layers)
	var tagged []string
	for _, r := range refs {
		if !strings.Contains(r, "@") {
			tagged = append(tagged, r)
		}
	}
	dir := b.TempDir()
	list := filepath.Join(dir, "images.txt")
	if err := os.WriteFile(list, []byte(strings.Join(tagged, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Printf("%d images of Kubeflow 26.03 (%d pinned by digest left out), each %d x %d bytes\n", len(tagged), len(pinned), layers, layerBytes)

	var oursFirst, oursAgain, loopFirst, loopAgain, parFirst, parAgain []benchkit.Sample
	for i := 0; i < pairs; i++ {
		f, a, err := b.side(up, func(m *registries.Mirror) *exec.Cmd {
			return exec.Command(plugin, append([]string{"images", "mirror", "--images", list, "--to", m.Host + "/ai", "-o", "json"}, m.Flags()...)...)
		})
		if err != nil {
			return fmt.Errorf("images mirror: %w", err)
		}
		oursFirst, oursAgain = append(oursFirst, f), append(oursAgain, a)
		for _, jobs := range []int{1, 4} {
			f, a, err := b.side(up, func(m *registries.Mirror) *exec.Cmd { return b.craneScript(crane, m, tagged, jobs) })
			if err != nil {
				return fmt.Errorf("crane copy (-P %d): %w", jobs, err)
			}
			if jobs == 1 {
				loopFirst, loopAgain = append(loopFirst, f), append(loopAgain, a)
			} else {
				parFirst, parAgain = append(parFirst, f), append(parAgain, a)
			}
		}
	}
	fmt.Printf("\n| %d runs each, median (wall; the command's own CPU) | copy into an empty mirror | again (all there) |\n|---|---|---|\n", pairs)
	for _, row := range []struct {
		what         string
		first, again []benchkit.Sample
	}{
		{"`images mirror --images LIST` (--jobs 4)", oursFirst, oursAgain},
		{"`crane copy` loop, one at a time", loopFirst, loopAgain},
		{"`crane copy` with `xargs -P 4`", parFirst, parAgain},
	} {
		fmt.Printf("| %s | %s | %s |\n", row.what, own(benchkit.Median(row.first)), own(benchkit.Median(row.again)))
	}
	return nil
}

func own(s benchkit.Sample) string { return fmt.Sprintf("%.2fs (%.2f CPU-s)", s.Wall.Seconds(), s.Own) }

// side runs cmd into a fresh mirror, then again into the same one.
func (b *bench) side(up *registries.Upstream, cmd func(*registries.Mirror) *exec.Cmd) (first, again benchkit.Sample, err error) {
	m := registries.NewMirror(b)
	// One CA bundle with both CAs, for crane (which has no CA flag) and for ours alike.
	bundle := filepath.Join(b.TempDir(), "cas.pem")
	var pem []byte
	for _, f := range []string{up.CAFile(), m.CAFile} {
		data, err := os.ReadFile(f)
		if err != nil {
			return first, again, err
		}
		pem = append(pem, data...)
	}
	if err := os.WriteFile(bundle, pem, 0o644); err != nil {
		return first, again, err
	}
	env := append(append(os.Environ(), up.Env()...), "SSL_CERT_FILE="+bundle)
	runOnce := func() error {
		c := cmd(m)
		c.Env = append(env, "DOCKER_CONFIG="+b.dockerConfig(m))
		out, err := c.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, tail(out))
		}
		return nil
	}
	if first, err = benchkit.Time(runOnce); err != nil {
		return
	}
	again, err = benchkit.Time(runOnce)
	return
}

// craneScript copies every image with crane, jobs at a time, to the names images mirror gives.
func (b *bench) craneScript(crane string, m *registries.Mirror, refs []string, jobs int) *exec.Cmd {
	to, err := mirror.ParseTarget("--to", m.Host+"/ai")
	if err != nil {
		b.Fatal(err)
	}
	var pairs strings.Builder
	for _, r := range refs {
		src, err := name.ParseReference(r)
		if err != nil {
			b.Fatal(err)
		}
		dst, err := to.Map(src)
		if err != nil {
			b.Fatal(err)
		}
		fmt.Fprintf(&pairs, "%s %s\n", r, dst)
	}
	file := filepath.Join(b.TempDir(), "pairs.txt")
	if err := os.WriteFile(file, []byte(pairs.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	script := fmt.Sprintf(`xargs -P %d -n 2 %s copy < %s`, jobs, crane, file)
	return exec.Command("bash", "-c", script)
}

// dockerConfig is a docker config folder with m's login, for crane (ours reads the flags).
func (b *bench) dockerConfig(m *registries.Mirror) string {
	pw, err := os.ReadFile(m.PasswordFile)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	auth := fmt.Sprintf(`{"auths":{%q:{"username":%q,"password":%q}}}`, m.Host, m.Username, strings.TrimSpace(string(pw)))
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(auth), 0o600); err != nil {
		b.Fatal(err)
	}
	return dir
}

// kubeflowImages are the images of Kubeflow 26.03's build from the fixtures.
func kubeflowImages(fixtures string) ([]string, error) {
	p, err := kubeflow.ProfileFor("26.03")
	if err != nil {
		return nil, err
	}
	src := kubeflow.Source{Manifests: filepath.Join(fixtures, "kubeflow", p.Top+".tar.gz"), RemoteBasesMirror: filepath.Join(fixtures, "kubeflow", "remote"), NoBuildCache: true}
	built, err := kubeflow.Build(context.Background(), p, src, kubeflow.Edits{})
	if err != nil {
		return nil, err
	}
	var sc images.Scanner
	sc.Scan("kubeflow", built.Objects, false)
	var refs []string
	for _, im := range sc.List.Images() {
		refs = append(refs, im.Ref)
	}
	return refs, nil
}

func tail(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 800 {
		s = "..." + s[len(s)-800:]
	}
	return s
}
