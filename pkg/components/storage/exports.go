package storage

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"path"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// ExportOptions are the /etc/exports options of the runbook.
const ExportOptions = "rw,no_root_squash,no_subtree_check"

// NodeAddress is one address of a node the NFS server must accept.
type NodeAddress struct {
	Node    string `json:"node"`
	Type    string `json:"type"`
	Address string `json:"address"`
}

// NodeAddresses returns the InternalIP and ExternalIP addresses of nodes, by node name.
func NodeAddresses(nodes []corev1.Node) []NodeAddress {
	var out []NodeAddress
	for _, n := range nodes {
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP || a.Type == corev1.NodeExternalIP {
				out = append(out, NodeAddress{Node: n.Name, Type: string(a.Type), Address: a.Address})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out
}

// Export is one client of an /etc/exports line: a network and the nodes whose addresses it holds.
type Export struct {
	Client string   `json:"client"`
	Nodes  []string `json:"nodes"`
}

// ValidMasks are the --mask values: a host (32), or the node's /24 or /16 network (the runbook's
// example exports whole /16 networks of the provider).
var ValidMasks = []int{32, 24, 16}

// Exports returns one client network per distinct node address masked to mask bits (IPv6
// addresses keep /128: a shorter IPv4 mask has no IPv6 meaning), in node order. Addresses that
// are not IPs are skipped.
func Exports(addrs []NodeAddress, mask int) []Export {
	var out []Export
	index := map[string]int{}
	for _, a := range addrs {
		ip := net.ParseIP(a.Address)
		if ip == nil {
			continue
		}
		var n net.IPNet
		if v4 := ip.To4(); v4 != nil {
			n = net.IPNet{IP: v4.Mask(net.CIDRMask(mask, 32)), Mask: net.CIDRMask(mask, 32)}
		} else {
			n = net.IPNet{IP: ip, Mask: net.CIDRMask(128, 128)}
		}
		client := n.String()
		i, ok := index[client]
		if !ok {
			i = len(out)
			index[client] = i
			out = append(out, Export{Client: client})
		}
		if !contains(out[i].Nodes, a.Node) {
			out[i].Nodes = append(out[i].Nodes, a.Node)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ExportLine is the /etc/exports line of one client.
func ExportLine(exportPath string, e Export) string {
	return fmt.Sprintf("%s %s(%s)", exportPath, e.Client, ExportOptions)
}

// UFWLine is the firewall rule of one client, as in the runbook.
func UFWLine(e Export) string {
	return fmt.Sprintf("sudo ufw allow from %s to any port nfs", e.Client)
}

// ParseExports reads an /etc/exports file and returns the client specifications (host, network,
// wildcard; options stripped) of every line exporting exportPath. Comments (#) and continued
// lines (\) are handled as exportfs does.
func ParseExports(r io.Reader, exportPath string) ([]string, error) {
	want := path.Clean(exportPath)
	sc := bufio.NewScanner(r)
	var clients []string
	var line strings.Builder
	flush := func() {
		text := line.String()
		line.Reset()
		if i := strings.Index(text, "#"); i >= 0 {
			text = text[:i]
		}
		fields := strings.Fields(text)
		if len(fields) == 0 || path.Clean(strings.Trim(fields[0], `"`)) != want {
			return
		}
		for _, f := range fields[1:] {
			if strings.HasPrefix(f, "-") || strings.HasPrefix(f, "(") {
				continue // default options, or options for every host: see below
			}
			if i := strings.Index(f, "("); i >= 0 {
				f = f[:i]
			}
			clients = append(clients, f)
		}
		// "path (opts)" or "path" alone exports to every host.
		if len(fields) == 1 || strings.HasPrefix(fields[len(fields)-1], "(") {
			clients = append(clients, "*")
		}
	}
	for sc.Scan() {
		text := sc.Text()
		if strings.HasSuffix(text, `\`) {
			line.WriteString(strings.TrimSuffix(text, `\`) + " ")
			continue
		}
		line.WriteString(text)
		flush()
	}
	if line.Len() > 0 {
		flush()
	}
	return clients, sc.Err()
}

// Missing is a node an exports file does not cover, with its uncovered addresses.
type Missing struct {
	Node      string   `json:"node"`
	Addresses []string `json:"addresses"`
}

// Uncovered returns the nodes with an InternalIP or ExternalIP address that none of clients
// accepts (the server may see the node under either address). A client is "*", an IP, a CIDR
// (a.b.c.d/n or a.b.c.d/255.255.0.0), or a host name or wildcard (matched against the node's
// Hostname address and its name). Netgroups (@group) cannot be evaluated and match nothing.
func Uncovered(nodes []corev1.Node, clients []string) []Missing {
	var out []Missing
	for _, n := range nodes {
		names := []string{n.Name}
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeHostName {
				names = append(names, a.Address)
			}
		}
		var missing []string
		for _, a := range NodeAddresses([]corev1.Node{n}) {
			if !covered(a.Address, names, clients) {
				missing = append(missing, a.Address)
			}
		}
		if len(missing) > 0 {
			out = append(out, Missing{Node: n.Name, Addresses: missing})
		}
	}
	return out
}

func covered(addr string, names, clients []string) bool {
	ip := net.ParseIP(addr)
	for _, c := range clients {
		switch {
		case c == "*":
			return true
		case strings.HasPrefix(c, "@"):
			continue
		}
		if ip != nil {
			if cip := net.ParseIP(c); cip != nil && cip.Equal(ip) {
				return true
			}
			if n := parseNet(c); n != nil && n.Contains(ip) {
				return true
			}
		}
		for _, name := range names {
			if ok, _ := path.Match(strings.ToLower(c), strings.ToLower(name)); ok {
				return true
			}
		}
	}
	return false
}

// parseNet reads a.b.c.d/n or a.b.c.d/255.255.0.0.
func parseNet(c string) *net.IPNet {
	if _, n, err := net.ParseCIDR(c); err == nil {
		return n
	}
	ipPart, maskPart, ok := strings.Cut(c, "/")
	if !ok {
		return nil
	}
	ip, m := net.ParseIP(ipPart).To4(), net.ParseIP(maskPart).To4()
	if ip == nil || m == nil {
		return nil
	}
	mask := net.IPMask(m)
	if ones, bits := mask.Size(); ones == 0 && bits == 0 {
		return nil
	}
	return &net.IPNet{IP: ip.Mask(mask), Mask: mask}
}
