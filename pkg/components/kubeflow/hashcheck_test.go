package kubeflow

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestBcryptMatchesRemembersAnswersPerObjectState(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	h, err := bcrypt.GenerateFromPassword([]byte("right"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	hash := string(h)
	memos := func() []string {
		files, _ := filepath.Glob(filepath.Join(cache, "kubectl-flexigrobots", "kubeflow", "hash-checks", "*"))
		return files
	}

	if !bcryptMatches(hash, "right", "hash-uid/1", "pw-uid/1") {
		t.Fatal("the right password does not match")
	}
	files := memos()
	if len(files) != 1 {
		t.Fatalf("memos %v, want one", files)
	}
	if b, _ := os.ReadFile(files[0]); string(b) != "match" {
		t.Fatalf("memo holds %q: want only the answer", b)
	}
	// The same object states give the remembered answer without a compare: here a password the
	// hash does not match, which the states say cannot have been read from them.
	if !bcryptMatches(hash, "other", "hash-uid/1", "pw-uid/1") {
		t.Error("the same object states were compared again instead of answered from the memo")
	}
	// A new resourceVersion of either object compares again.
	if bcryptMatches(hash, "other", "hash-uid/1", "pw-uid/2") {
		t.Error("a changed password Secret was answered from the memo")
	}
	if bcryptMatches(hash, "other", "hash-uid/2", "pw-uid/1") {
		t.Error("a changed hash holder was answered from the memo")
	}
	if bcryptMatches(hash, "other", "hash-uid/2", "pw-uid/1") {
		t.Error("a remembered mismatch answered as a match")
	}
	// Without an identity (an object not there yet) nothing is remembered.
	before := len(memos())
	if !bcryptMatches(hash, "right", "", "pw-uid/1") || len(memos()) != before {
		t.Errorf("a compare without both identities: memos %d -> %d", before, len(memos()))
	}
}
