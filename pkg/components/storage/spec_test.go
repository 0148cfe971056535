package storage

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

// good is a valid spec as the file gives it (defaults left out).
func good() Spec {
	return Spec{NFSServer: "192.0.2.10", NFSPath: "/nfsroot/kubeflow_nfs/"}
}

func TestSpecDefault(t *testing.T) {
	s := good()
	s.Default()
	if s.StorageClass != DefaultClass || s.ReleaseNamespace != DefaultNamespace || s.MakeDefault == nil || !*s.MakeDefault ||
		s.Chart.Repo != DefaultChartRepo || s.Chart.Version != "" {
		t.Fatalf("defaults not filled: %+v", s)
	}
	if s.NFSPath != "/nfsroot/kubeflow_nfs" {
		t.Fatalf("path not cleaned: %q", s.NFSPath)
	}
	if ps := s.Validate(); len(ps) != 0 {
		t.Fatalf("good spec: %v", ps)
	}
	again := s
	again.Default()
	if !reflect.DeepEqual(again, s) {
		t.Fatalf("Default is not idempotent: %+v, then %+v", s, again)
	}
	off := false
	s = good()
	s.MakeDefault, s.NFSPath = &off, "nfsroot/" // an invalid path is left as given
	s.Default()
	if *s.MakeDefault || s.NFSPath != "nfsroot/" {
		t.Fatalf("default false or an invalid path changed: %+v", s)
	}
	v := s.values()
	if v["storageClass"].(map[string]any)["defaultClass"] != false || v["nfs"].(map[string]any)["server"] != "192.0.2.10" {
		t.Fatalf("values %v", v)
	}
}

func TestSpecValidate(t *testing.T) {
	for _, tc := range []struct {
		name, field, want string
		mut               func(*Spec)
	}{
		{"empty server", "nfsServer", "is required", func(s *Spec) { s.NFSServer = "" }},
		{"blank server", "nfsServer", "is required", func(s *Spec) { s.NFSServer = " " }},
		{"server with a space", "nfsServer", "neither an IP address nor a host name", func(s *Spec) { s.NFSServer = "nfs server" }},
		{"empty path", "nfsPath", "is required", func(s *Spec) { s.NFSPath = "" }},
		{"relative path", "nfsPath", "is relative", func(s *Spec) { s.NFSPath = "nfsroot" }},
		{"path with a space", "nfsPath", "space or a comma", func(s *Spec) { s.NFSPath = "/nfs root" }},
		{"path with a comma", "nfsPath", "space or a comma", func(s *Spec) { s.NFSPath = "/a,b" }},
		{"class", "storageClass", "not a valid StorageClass name", func(s *Spec) { s.StorageClass = "NFS_Client" }},
		{"namespace", "releaseNamespace", "not a valid namespace name", func(s *Spec) { s.ReleaseNamespace = "a.b" }},
		{"set", "chart.set[0]", "want key=value", func(s *Spec) { s.Chart.Set = core.SetValues{"nfs.path"} }},
		{"cert without key", "chart.certFile", "{chart.keyFile}", func(s *Spec) { s.Chart.CertFile = "c.pem" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := good()
			s.Default()
			tc.mut(&s)
			ps := s.Validate()
			if len(ps) != 1 || ps[0].Field != tc.field || !strings.Contains(ps[0].Message, tc.want) {
				t.Fatalf("want one problem at %s with %q, got %+v", tc.field, tc.want, ps)
			}
		})
	}
	s := Spec{NFSPath: "rel", StorageClass: "A"}
	if ps := s.Validate(); len(ps) < 4 { // server, path, class, namespace: every problem at once
		t.Fatalf("want every problem, got %+v", ps)
	}
}

func TestSpecLoad(t *testing.T) {
	s := good()
	s.Default()
	s.Chart.ValuesFiles = []string{"x"}
	s.Resolve(func(p string) string {
		if p == "" {
			return ""
		}
		return "/nonexistent/" + p
	})
	ps := s.Load()
	if len(ps) != 1 || ps[0].Field != "chart.valuesFiles[0]" || !strings.Contains(ps[0].Message, "/nonexistent/x") {
		t.Fatalf("load: %+v", ps)
	}
}

func TestSpecIsTheBlock(t *testing.T) {
	in := `{"nfsServer":"nfs.example.com","nfsPath":"/exports/k8s","storageClass":"nfs","releaseNamespace":"nfs",
		"default":false,"smokeTest":true,"chart":{"repo":"https://charts.example.com/nfs","set":{"replicaCount":2}}}`
	s := Section.NewSpec().(*Spec)
	if err := json.Unmarshal([]byte(in), s); err != nil {
		t.Fatal(err)
	}
	if s.NFSServer != "nfs.example.com" || s.NFSPath != "/exports/k8s" || s.StorageClass != "nfs" || s.ReleaseNamespace != "nfs" ||
		*s.MakeDefault || !s.SmokeTest || s.Chart.Repo != "https://charts.example.com/nfs" || len(s.Chart.Set) != 1 || s.Chart.Set[0] != "replicaCount=2" {
		t.Fatalf("decoded %+v", s)
	}
}

func TestPostConditions(t *testing.T) {
	ids := func(cs []checks.Check) (out []string) {
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	s := good()
	if got := ids(Section.PostConditions(&s)); !reflect.DeepEqual(got, []string{"STORAGE-001", "STORAGE-002", "STORAGE-003"}) {
		t.Fatalf("default class: %v", got)
	}
	off := false
	s.MakeDefault = &off
	if got := ids(Section.PostConditions(&s)); !reflect.DeepEqual(got, []string{"STORAGE-001", "STORAGE-002"}) {
		t.Fatalf("--no-default: %v", got)
	}
}
