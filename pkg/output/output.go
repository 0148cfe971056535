// Package output prints command results as table, json, yaml or junit, and reports progress on
// stderr. Results go to stdout; progress, warnings and logs go to stderr.
package output

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

// Output formats.
const (
	Table = "table"
	// None prints nothing: the command's output is something else (a --diff run's diff).
	None  = "none"
	JSON  = "json"
	YAML  = "yaml"
	JUnit = "junit"
)

// Validate rejects an output format not in allowed (exit code 2).
func Validate(format string, allowed ...string) error {
	if slices.Contains(allowed, format) {
		return nil
	}
	return core.UsageErrorf("unknown output format %q: use -o with one of %s", format, strings.Join(allowed, "|"))
}

// Print writes v as json or yaml.
func Print(w io.Writer, format string, v any) error {
	switch format {
	case None:
		return nil
	case JSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case YAML:
		b, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	return fmt.Errorf("output: format %q cannot print this result", format)
}
