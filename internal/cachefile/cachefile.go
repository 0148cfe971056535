// Package cachefile writes the plugin's cache entries (in the user cache dir) so that a reader,
// another run of the plugin at the same time included, sees a whole entry or none.
package cachefile

import (
	"os"
	"path/filepath"
)

// Write writes data to file through a temp file in the same folder, renamed into place; the
// folder is made (0700) when missing.
func Write(file string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}
