package lb

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

// flags are the command's flags of the Spec's fields (json names); the chart block's are
// core.ChartFlag's.
var flags = map[string]string{
	"addresses": "--addresses", "pool": "--pool", "l2Advertisement": "--l2-advertisement",
	"releaseNamespace": "--release-namespace", "releaseName": "--release-name",
	"serviceCIDRs": "--service-cidr", "fixStrictARP": "--fix-strict-arp", "probe": "--probe",
	"imageRegistry": "--image-registry", "imagePullSecrets": "--image-pull-secret",
}

// flagOf names a field of complb.Spec by its flag: "pool" is --pool, "addresses[1]" the second
// --addresses entry ("--addresses entry 2"), "chart.version" --chart-version.
func flagOf(field string) string {
	if rest, ok := strings.CutPrefix(field, "chart."); ok {
		return core.ChartFlag(rest)
	}
	name, idx, indexed := strings.Cut(field, "[")
	flag, ok := flags[name]
	if !ok {
		return field
	}
	if n, err := strconv.Atoi(strings.TrimSuffix(idx, "]")); indexed && err == nil {
		return fmt.Sprintf("%s entry %d", flag, n+1)
	}
	return flag
}

// rendered is err with the {field} references of its message named by their flags, its exit
// code kept (Prepare's errors).
func rendered(err error) error {
	if err == nil {
		return nil
	}
	return &core.ExitError{Code: core.ExitCode(err), Err: errors.New(core.Render(core.Unexit(err).Error(), flagOf))}
}
