package images

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// Text is the output format with one image reference a line, for other tools (crane, skopeo,
// a mirror script).
const Text = "text"

// Formats are the output formats Print knows.
var Formats = []string{output.Table, "wide", output.JSON, output.YAML, Text}

// Doc is the json/yaml output: the images, and what their list covers.
type Doc struct {
	APIVersion string  `json:"apiVersion"`
	Kind       string  `json:"kind"`
	Images     []Image `json:"images"`
	// Notes say what the list leaves out or cannot know.
	Notes []string `json:"notes,omitempty"`
}

// Print writes imgs in format: table (image, sections, origins, where it was found first and
// how many places more), wide (one line per place), json, yaml or text.
func Print(w io.Writer, format string, imgs []Image, notes []string) error {
	switch format {
	case Text:
		for _, im := range imgs {
			if _, err := fmt.Fprintln(w, im.Ref); err != nil {
				return err
			}
		}
		return nil
	case output.JSON, output.YAML:
		if imgs == nil {
			imgs = []Image{}
		}
		return output.Print(w, format, Doc{APIVersion: "flexigrobots.io/v1alpha1", Kind: "ImageList", Images: imgs, Notes: notes})
	}
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	if format == "wide" {
		fmt.Fprintln(tw, "IMAGE\tSECTION\tORIGIN\tOBJECT\tFIELD\tNOTE")
		for _, im := range imgs {
			for _, s := range im.Sources {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", im.Ref, s.Section, s.Origin, s.Object, s.Field, s.Note)
			}
		}
		return tw.Flush()
	}
	fmt.Fprintln(tw, "IMAGE\tSECTION\tORIGIN\tFOUND IN")
	for _, im := range imgs {
		var sections, origins []string
		for _, s := range im.Sources {
			if !slices.Contains(sections, s.Section) {
				sections = append(sections, s.Section)
			}
			if !slices.Contains(origins, string(s.Origin)) {
				origins = append(origins, string(s.Origin))
			}
		}
		where := im.Sources[0].Object
		if n := len(im.Sources) - 1; n > 0 {
			where += fmt.Sprintf(" (+%d)", n)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", im.Ref, strings.Join(sections, ","), strings.Join(origins, ","), where)
	}
	return tw.Flush()
}
