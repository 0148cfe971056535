// Command dist builds the release archives of kubectl flexigrobots and the krew manifest that
// points at them (`make dist VERSION=vX.Y.Z`, or `go run ./hack/dist -version vX.Y.Z`).
//
// For each platform it cross-compiles the plugin (static, -trimpath, stripped, version linked in),
// packs it with the kubectl_complete-flexigrobots helper, LICENSE and README.md into
// kubectl-flexigrobots_<version>_<os>_<arch>.tar.gz (.zip for windows), writes sha256sums.txt and
// renders hack/krew-manifest.yaml.tmpl with the archives' sha256 values. Archives are reproducible:
// same sources, toolchain and SOURCE_DATE_EPOCH give the same bytes.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// allPlatforms are the release platforms, in manifest order.
const allPlatforms = "linux/amd64,linux/arm64,darwin/amd64,darwin/arm64,windows/amd64"

const (
	modulePath = "github.com/flexigrobots/kubectl-flexigrobots"
	binName    = "kubectl-flexigrobots"
	homepage   = "https://github.com/flexigrobots/kubectl-flexigrobots"
	releaseURL = homepage + "/releases/download"
)

// semver is what krew accepts as a plugin version: vMAJOR.MINOR.PATCH with an optional pre-release.
var semver = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$`)

// config is what one dist run builds.
type config struct {
	root      string // module root (sources, LICENSE, README.md, hack/)
	out       string // archives and sha256sums.txt go here
	manifest  string // rendered krew manifest
	version   string
	commit    string
	platforms []platform
	mtime     time.Time // modification time of every archive entry
}

// platform is one GOOS/GOARCH pair.
type platform struct{ OS, Arch string }

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "dist:", err)
		os.Exit(2)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "dist:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (*config, error) {
	fs := flag.NewFlagSet("dist", flag.ContinueOnError)
	version := fs.String("version", os.Getenv("VERSION"), "release version, vX.Y.Z (krew needs semver)")
	out := fs.String("out", "dist", "output folder for the archives and sha256sums.txt")
	manifest := fs.String("manifest", "", "where to write the krew manifest (default <out>/krew-manifest.yaml)")
	commit := fs.String("commit", "", "commit linked into the binary (default: git rev-parse --short HEAD)")
	platforms := fs.String("platforms", envOr("DIST_PLATFORMS", allPlatforms), "comma-separated GOOS/GOARCH list, or \"host\"")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if !semver.MatchString(*version) {
		return nil, fmt.Errorf("version %q is not vX.Y.Z (krew accepts only semantic versions): run `make dist VERSION=v0.1.0`", *version)
	}
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	cfg := &config{root: root, out: *out, manifest: *manifest, version: *version, commit: *commit}
	if cfg.manifest == "" {
		cfg.manifest = filepath.Join(cfg.out, "krew-manifest.yaml")
	}
	if cfg.commit == "" {
		cfg.commit = gitOutput(root, "rev-parse", "--short", "HEAD")
	}
	if cfg.platforms, err = parsePlatforms(*platforms); err != nil {
		return nil, err
	}
	if cfg.mtime, err = sourceDate(root); err != nil {
		return nil, err
	}
	return cfg, nil
}

func parsePlatforms(s string) ([]platform, error) {
	if s == "host" {
		s = runtime.GOOS + "/" + runtime.GOARCH
	}
	var ps []platform
	for _, p := range strings.Split(s, ",") {
		goos, goarch, ok := strings.Cut(strings.TrimSpace(p), "/")
		if !ok || goos == "" || goarch == "" {
			return nil, fmt.Errorf("platform %q is not GOOS/GOARCH (e.g. linux/amd64)", p)
		}
		ps = append(ps, platform{OS: goos, Arch: goarch})
	}
	return ps, nil
}

// sourceDate is $SOURCE_DATE_EPOCH, else the time of the HEAD commit, else a fixed date, so two
// builds of the same sources make the same archives.
func sourceDate(root string) (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		s = gitOutput(root, "log", "-1", "--format=%ct")
	}
	if s == "" {
		return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), nil
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q is not a number of seconds", s)
	}
	return time.Unix(sec, 0).UTC(), nil
}

func run(cfg *config) error {
	if err := os.MkdirAll(cfg.out, 0o755); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "flexigrobots-dist-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	var archives []archive
	for _, p := range cfg.platforms {
		bin, err := build(cfg, p, work)
		if err != nil {
			return err
		}
		a, err := pack(cfg, p, bin)
		if err != nil {
			return err
		}
		fmt.Printf("%s  %s\n", a.SHA256, filepath.Join(cfg.out, a.Name))
		archives = append(archives, a)
	}
	if err := writeSums(filepath.Join(cfg.out, "sha256sums.txt"), archives); err != nil {
		return err
	}
	if err := writeManifest(cfg, archives); err != nil {
		return err
	}
	fmt.Printf("krew manifest: %s\n", cfg.manifest)
	return nil
}

// build cross-compiles the plugin for p into work/<os>_<arch>/ and returns the binary's path.
func build(cfg *config, p platform, work string) (string, error) {
	bin := filepath.Join(work, p.OS+"_"+p.Arch, p.binary())
	ldflags := fmt.Sprintf("-s -w -X %[1]s/internal/buildinfo.Version=%[2]s -X %[1]s/internal/buildinfo.Commit=%[3]s",
		modulePath, cfg.version, cfg.commit)
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", bin, "./cmd/"+binName)
	cmd.Dir = cfg.root
	cmd.Env = append(os.Environ(), "GOOS="+p.OS, "GOARCH="+p.Arch, "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s/%s: %v\n%s", p.OS, p.Arch, err, out)
	}
	return bin, nil
}

// binary is the plugin's file name on p.
func (p platform) binary() string {
	if p.OS == "windows" {
		return binName + ".exe"
	}
	return binName
}

// completionHelper is the kubectl_complete-flexigrobots helper's file name on p.
func (p platform) completionHelper() string {
	if p.OS == "windows" {
		return "kubectl_complete-flexigrobots.cmd"
	}
	return "kubectl_complete-flexigrobots"
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func gitOutput(dir string, args ...string) string {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: run from the checkout")
		}
		dir = parent
	}
}
