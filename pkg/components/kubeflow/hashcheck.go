package kubeflow

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/flexigrobots/kubectl-flexigrobots/internal/cachefile"
)

// bcryptMatches tells whether hash is the bcrypt hash of password. A bcrypt compare costs about
// 60 ms of CPU by design, and a re-run makes it every time to keep dex's live hash; so its
// answer is remembered in the user cache dir under the identities of the objects the two were
// read from (each object's uid and resourceVersion: any change of either object moves its
// resourceVersion, a recreated one has a new uid), and answered from there while both are
// unchanged. The memo holds no secret: its name is a digest of those identities and which
// compare it was, its content the answer. Without an identity for both (an object not yet
// there), or without a cache dir, it compares every time.
func bcryptMatches(hash, password string, hashFrom, passwordFrom string) bool {
	file := hashCheckMemo(hashFrom, passwordFrom)
	if file != "" {
		if b, err := os.ReadFile(file); err == nil && (string(b) == "match" || string(b) == "differs") {
			return string(b) == "match"
		}
	}
	match := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
	if file != "" {
		answer := "differs"
		if match {
			answer = "match"
		}
		_ = cachefile.Write(file, []byte(answer)) // a failure only costs the next run the compare
	}
	return match
}

// hashCheckMemo is the memo file of comparing the hash read from hashFrom with the password read
// from passwordFrom ("" when either is unknown).
func hashCheckMemo(hashFrom, passwordFrom string) string {
	if hashFrom == "" || passwordFrom == "" {
		return ""
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	sum := sha256.Sum256([]byte(strings.Join([]string{"dex-hash-check/1", hashFrom, passwordFrom}, "\x00")))
	return filepath.Join(dir, "kubectl-flexigrobots", "kubeflow", "hash-checks", hex.EncodeToString(sum[:16]))
}

// objectStamp identifies one state of an object: its uid and resourceVersion.
func objectStamp(uid, resourceVersion string) string {
	if uid == "" || resourceVersion == "" {
		return ""
	}
	return uid + "/" + resourceVersion
}
