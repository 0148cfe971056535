package cachefile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteReplacesWholeAndLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a", "b", "entry")
	for _, data := range []string{"first", "second, longer"} {
		if err := Write(file, []byte(data)); err != nil {
			t.Fatal(err)
		}
		if got, err := os.ReadFile(file); err != nil || string(got) != data {
			t.Fatalf("read %q, %v: want %q", got, err, data)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(file))
	if len(entries) != 1 {
		t.Fatalf("folder holds %d files, want the entry only", len(entries))
	}
	if st, _ := os.Stat(filepath.Join(dir, "a")); st.Mode().Perm() != 0o700 {
		t.Errorf("folder mode %v, want 0700", st.Mode().Perm())
	}
	if err := Write(filepath.Join(file, "under-a-file"), nil); err == nil {
		t.Error("writing under a file: want an error")
	}
}
