package platform

// Sections returns an adapter per block the file declares, in Order. To plug a section in,
// write its adapter (a type implementing Section, in its own <name>_section.go) and return it here.
func (pl *Platform) Sections() []Section {
	s := pl.Spec
	var out []Section
	if s.Storage != nil {
		out = append(out, &storageSection{pl: pl})
	}
	if s.LB != nil {
		out = append(out, &lbSection{pl: pl})
	}
	if s.Kubeflow != nil {
		out = append(out, &kubeflowSection{pl: pl})
	}
	if s.TLS != nil {
		out = append(out, &tlsSection{pl: pl})
	}
	if s.Profiles != nil {
		out = append(out, &profilesSection{pl: pl})
	}
	if s.GPU != nil {
		out = append(out, &gpuSection{pl: pl})
	}
	return out
}
