package storage

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func node(name string, addrs ...corev1.NodeAddress) corev1.Node {
	return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{Addresses: addrs}}
}

func addr(t corev1.NodeAddressType, a string) corev1.NodeAddress {
	return corev1.NodeAddress{Type: t, Address: a}
}

var runbookNodes = []corev1.Node{
	node("master", addr(corev1.NodeInternalIP, "192.168.1.10"), addr(corev1.NodeExternalIP, "213.227.145.7"), addr(corev1.NodeHostName, "master")),
	node("gpu-worker", addr(corev1.NodeInternalIP, "192.168.1.11"), addr(corev1.NodeExternalIP, "62.212.86.9"), addr(corev1.NodeHostName, "gpu-worker.example.com")),
}

func TestExportsPerAddressAndMask(t *testing.T) {
	addrs := NodeAddresses(runbookNodes)
	if len(addrs) != 4 {
		t.Fatalf("want InternalIP and ExternalIP of both nodes (no Hostname), got %+v", addrs)
	}
	var lines []string
	for _, e := range Exports(addrs, 32) {
		lines = append(lines, ExportLine("/nfsroot/kubeflow_nfs", e), UFWLine(e))
	}
	want := []string{
		"/nfsroot/kubeflow_nfs 192.168.1.11/32(rw,no_root_squash,no_subtree_check)",
		"sudo ufw allow from 192.168.1.11/32 to any port nfs",
		"/nfsroot/kubeflow_nfs 62.212.86.9/32(rw,no_root_squash,no_subtree_check)",
		"sudo ufw allow from 62.212.86.9/32 to any port nfs",
		"/nfsroot/kubeflow_nfs 192.168.1.10/32(rw,no_root_squash,no_subtree_check)",
		"sudo ufw allow from 192.168.1.10/32 to any port nfs",
		"/nfsroot/kubeflow_nfs 213.227.145.7/32(rw,no_root_squash,no_subtree_check)",
		"sudo ufw allow from 213.227.145.7/32 to any port nfs",
	}
	if !reflect.DeepEqual(lines, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	// /24: both internal addresses fall into one network, listed once with both nodes.
	got := Exports(addrs, 24)
	if len(got) != 3 || got[0].Client != "192.168.1.0/24" || !reflect.DeepEqual(got[0].Nodes, []string{"gpu-worker", "master"}) {
		t.Fatalf("/24: %+v", got)
	}
	// The runbook's example: a /16 of the provider network.
	if got := Exports([]NodeAddress{{Node: "new", Address: "5.79.113.30"}}, 16); got[0].Client != "5.79.0.0/16" {
		t.Fatalf("/16: %+v", got)
	}
	if got := Exports([]NodeAddress{{Node: "v6", Address: "2001:db8::5"}}, 24); got[0].Client != "2001:db8::5/128" {
		t.Fatalf("IPv6 keeps /128: %+v", got)
	}
}

func TestParseExportsAndUncovered(t *testing.T) {
	file := `# /etc/exports
/nfsroot/kubeflow_nfs 192.168.1.0/24(rw,no_root_squash,no_subtree_check) # the LAN
/nfsroot/kubeflow_nfs/ 213.227.0.0/255.255.0.0(rw) \
    *.example.org(ro)
/elsewhere 62.212.86.9(rw)
`
	clients, err := ParseExports(strings.NewReader(file), "/nfsroot/kubeflow_nfs")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"192.168.1.0/24", "213.227.0.0/255.255.0.0", "*.example.org"}; !reflect.DeepEqual(clients, want) {
		t.Fatalf("clients %v, want %v", clients, want)
	}
	missing := Uncovered(runbookNodes, clients)
	if want := []Missing{{Node: "gpu-worker", Addresses: []string{"62.212.86.9"}}}; !reflect.DeepEqual(missing, want) {
		t.Fatalf("missing %+v, want %+v", missing, want)
	}
	// A host-name wildcard matching the node's Hostname address covers all its addresses.
	if m := Uncovered(runbookNodes, append(clients, "*.example.com")); len(m) != 0 {
		t.Fatalf("wildcard host: still missing %+v", m)
	}
	// "path (opts)" exports to every host.
	all, _ := ParseExports(strings.NewReader("/nfsroot/kubeflow_nfs (rw)\n"), "/nfsroot/kubeflow_nfs")
	if m := Uncovered(runbookNodes, all); len(m) != 0 || !reflect.DeepEqual(all, []string{"*"}) {
		t.Fatalf("world export: clients %v, missing %+v", all, m)
	}
}
