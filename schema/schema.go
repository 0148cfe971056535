// Package schema holds the published JSON Schema of the platform file (plugins.yaml) and its
// commented example, embedded so that `kubectl flexigrobots apply` validates with exactly the
// schema editors use.
package schema

import _ "embed"

// Platform is the JSON Schema (draft 2020-12) of kind Platform, flexigrobots.io/v1alpha1.
//
//go:embed platform.schema.json
var Platform []byte

// Example is the commented example platform file (plugins.yaml at the repository root).
//
//go:embed plugins.example.yaml
var Example []byte
