package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/flexigrobots/kubectl-flexigrobots/test/registries"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// mirrorRun is `images mirror -o json` as a script reads it.
type mirrorRun struct {
	Images []struct {
		Image, Target, Digest, Action, Error string
	} `json:"images"`
}

func parseMirror(t *testing.T, r result) mirrorRun {
	t.Helper()
	var m mirrorRun
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatalf("images mirror -o json: %v\n%s", err, r.stdout)
	}
	return m
}

func (m mirrorRun) count(action string) int {
	n := 0
	for _, im := range m.Images {
		if im.Action == action {
			n++
		}
	}
	return n
}

// TestImagesMirror: `images mirror` copies what `images` lists from stand-ins for the public
// registries (reached through an HTTPS proxy, as from the internet) into a site's mirror with
// TLS from its own CA and basic auth, on an API-server-only 1.37 bed (rendering needs only the
// API): everything by digest, a second run copies nothing, a run interrupted with Ctrl-C
// resumes, and a folder carries the images to a site with no line.
func TestImagesMirror(t *testing.T) {
	repo := testbed.ChartRepo(t)
	c := testbed.StartT(t, testbed.Options{Version: testbed.V137, APIServerOnly: true})
	b := newPlatformBed(t, c, repo, kubeflowArchiveURL(t, "26.03"))
	file := b.writePlatform(t, "plugins.yaml", nil)
	up := registries.NewUpstream(t)

	listed := runPlugin(t, c, "images", "-f", file, "-o", "text")
	refs := strings.Fields(listed.stdout)
	if listed.code != 0 || len(refs) < 100 {
		t.Fatalf("images -o text: exit %d, %d images", listed.code, len(refs))
	}
	// A reference pinned by digest names upstream content, which a synthetic image cannot
	// have: those are left out of the list here (pkg/images/mirror's tests copy digest pins).
	pinned := up.Seed(refs)
	var tagged []string
	for _, r := range refs {
		if !strings.Contains(r, "@") {
			tagged = append(tagged, r)
		}
	}
	t.Logf("%d images listed, %d pinned by digest", len(refs), len(pinned))
	list := filepath.Join(t.TempDir(), "images.txt")
	if err := os.WriteFile(list, []byte("# every image the platform runs\n"+strings.Join(tagged, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	site := registries.NewMirror(t)
	toSite := append([]string{"--to", site.Host + "/ai", "-o", "json"}, site.Flags()...)

	t.Run("every image is copied by digest with the mirror's login and CA", func(t *testing.T) {
		r := runPluginWith(t, c, nil, up.Env(), append([]string{"images", "mirror", "--images", list, "--jobs", "8"}, toSite...)...)
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		got := parseMirror(t, r)
		if len(got.Images) != len(tagged) || got.count("copied") != len(tagged) {
			t.Fatalf("%d results, %d copied, want %d", len(got.Images), got.count("copied"), len(tagged))
		}
		if n := strings.Count(r.stderr, "\nmirror: ["); n+1 < len(tagged) {
			t.Errorf("%d progress lines for %d images", n, len(tagged))
		}
		for _, im := range got.Images {
			want, err := up.Digest(im.Image)
			if err != nil {
				t.Fatal(err)
			}
			dst, err := name.ParseReference(im.Target)
			if err != nil {
				t.Fatal(err)
			}
			have, err := remote.Head(dst, site.Options()...)
			if err != nil || have.Digest.String() != want || im.Digest != want {
				t.Errorf("%s -> %s: %v, mirror has %v, want %s", im.Image, im.Target, err, have, want)
			}
		}
		if strings.Contains(r.stdout+r.stderr, "mirror-s3cret") {
			t.Error("the registry password was printed")
		}
	})

	t.Run("a second run copies nothing", func(t *testing.T) {
		before := site.Puts.Load()
		r := runPluginWith(t, c, nil, up.Env(), append([]string{"images", "mirror", "--images", list}, toSite...)...)
		if got := parseMirror(t, r); r.code != 0 || got.count("present") != len(tagged) {
			t.Fatalf("exit %d, %d present of %d", r.code, got.count("present"), len(tagged))
		}
		if after := site.Puts.Load(); after != before {
			t.Errorf("%d uploads on a run with nothing to copy", after-before)
		}
	})

	t.Run("a run interrupted with Ctrl-C resumes", func(t *testing.T) {
		other := registries.NewMirror(t)
		args := append([]string{"images", "mirror", "-f", file, "--only", "storage,lb,gpu", "--jobs", "1", "--to", other.Host, "-o", "json"}, other.Flags()...)
		cmd := exec.Command(testbed.PluginBinary(t), args...)
		cmd.Env = c.Env(up.Env()...)
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), ": copied") {
				_ = cmd.Process.Signal(syscall.SIGINT)
				break
			}
		}
		go func() {
			for sc.Scan() {
			}
		}()
		if err := cmd.Wait(); err == nil {
			t.Fatal("the interrupted run exited 0")
		}
		r := runPluginWith(t, c, nil, up.Env(), args...)
		got := parseMirror(t, r)
		if r.code != 0 || got.count("present") < 1 || got.count("copied") < 1 || got.count("present")+got.count("copied") != len(got.Images) {
			t.Fatalf("resumed: exit %d, %d present, %d copied of %d", r.code, got.count("present"), got.count("copied"), len(got.Images))
		}
	})

	t.Run("a folder carries the images to a site with no line", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "platform-images")
		out := runPluginWith(t, c, nil, up.Env(), "images", "mirror", "-f", file, "--only", "storage,lb", "--to", "oci:"+dir, "--platform", "linux/amd64", "-o", "json")
		if got := parseMirror(t, out); out.code != 0 || got.count("copied") != len(got.Images) || len(got.Images) < 4 {
			t.Fatalf("to the folder: exit %d, %+v", out.code, got)
		}
		inside := registries.NewMirror(t)
		// No proxy: the site reaches nothing but its own registry; its login is the one
		// `docker login` wrote, not flags.
		docker := t.TempDir()
		pw, err := os.ReadFile(inside.PasswordFile)
		if err != nil {
			t.Fatal(err)
		}
		login := `{"auths":{"` + inside.Host + `":{"username":"` + inside.Username + `","password":"` + strings.TrimSpace(string(pw)) + `"}}}`
		if err := os.WriteFile(filepath.Join(docker, "config.json"), []byte(login), 0o600); err != nil {
			t.Fatal(err)
		}
		in := runPluginWith(t, c, nil, []string{"DOCKER_CONFIG=" + docker}, "images", "mirror", "--from", "oci:"+dir, "--to", inside.Host+"/ai", "-o", "json", "--registry-ca-file", inside.CAFile)
		got := parseMirror(t, in)
		if in.code != 0 || got.count("copied") != len(got.Images) || len(got.Images) != len(parseMirror(t, out).Images) {
			t.Fatalf("from the folder: exit %d, %+v", in.code, got)
		}
	})

	t.Run("one tar file carries the images too", func(t *testing.T) {
		tarFile := filepath.Join(t.TempDir(), "platform-images.tar")
		out := runPluginWith(t, c, nil, up.Env(), "images", "mirror", "-f", file, "--only", "storage", "--to", tarFile, "-o", "json")
		if got := parseMirror(t, out); out.code != 0 || got.count("copied") != 2 {
			t.Fatalf("to the file: exit %d, %+v", out.code, got)
		}
		inside := registries.NewMirror(t)
		in := runPlugin(t, c, append([]string{"images", "mirror", "--from", tarFile, "--to", inside.Host, "-o", "json"}, inside.Flags()...)...)
		if got := parseMirror(t, in); in.code != 0 || got.count("copied") != 2 {
			t.Fatalf("from the file: exit %d, %+v", in.code, got)
		}
	})

	t.Run("bad input exits 2 and copies nothing", func(t *testing.T) {
		before := site.Puts.Load()
		for why, args := range map[string][]string{
			"no --to":              {"images", "mirror", "--images", list},
			"two sources":          {"images", "mirror", "--images", list, "-f", file, "--to", site.Host},
			"a scheme in --to":     {"images", "mirror", "--images", list, "--to", "https://" + site.Host},
			"a bad --platform":     {"images", "mirror", "--images", list, "--to", site.Host, "--platform", "amd64"},
			"no password file":     {"images", "mirror", "--images", list, "--to", site.Host, "--registry-username", "robot", "--registry-password-file", filepath.Join(t.TempDir(), "absent")},
			"--from a registry":    {"images", "mirror", "--from", site.Host, "--to", site.Host},
			"a list with no image": {"images", "mirror", "--images", os.DevNull, "--to", site.Host},
			"a missing tar file":   {"images", "mirror", "--from", filepath.Join(t.TempDir(), "absent.tar"), "--to", site.Host},
		} {
			if r := runPluginWith(t, c, nil, up.Env(), args...); r.code != 2 || r.stdout != "" {
				t.Errorf("%s: exit %d (want 2), stdout %q", why, r.code, r.stdout)
			}
		}
		if site.Puts.Load() != before {
			t.Error("a refused run uploaded something")
		}
	})
}
