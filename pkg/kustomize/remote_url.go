package kustomize

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"
)

// remoteSpec is one remote kustomization entry, resolved to what is downloaded for it.
type remoteSpec struct {
	Entry string // as written in the kustomization
	// Archive: a git-style GitHub base, fetched as the tag (or commit) archive of Org/Repo at Ref,
	// with the kustomization root at Path inside it. Otherwise a plain file fetched as it is.
	Archive              bool
	Org, Repo, Ref, Path string
	URL                  string // canonical download URL (the key of Remotes.Pins)
	Name                 string // flat file name in a mirror
	Local                string // slash path below top/.remote: the archive root, or the file
}

// scpUser matches the user of an scp-style git URL (git@github.com:org/repo).
var scpUser = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*@[^/:]+:`)

// gitUser is the user part of a git URL (git@...), which github.com archives do not need.
var gitUser = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*@`)

// commitID is a full git commit id; GitHub serves its archive at archive/ID.tar.gz.
var commitID = regexp.MustCompile(`^[0-9a-f]{40}$`)

// safeRef is what a tag or commit ref may hold here (no "..", no leading "-" or ".").
var safeRef = regexp.MustCompile(`^[A-Za-z0-9_+][A-Za-z0-9._+/-]*$`)

// isHTTPURL reports whether s is an http(s) URL, which kustomize always treats as remote.
func isHTTPURL(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://")
}

// looksLikeGit reports whether s has the form of a git URL kustomize would clone when no local
// file or folder of that name exists: git::, ssh://, file://, github.com/..., user@host:....
func looksLikeGit(s string) bool {
	l := strings.ToLower(s)
	for _, p := range []string{"git::", "ssh://", "file://", "github.com/", "github.com:"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return scpUser.MatchString(s)
}

// parseRemote resolves a remote entry. http(s) URLs on github.com are git-style bases unless
// they are release assets (ORG/REPO/releases/download/...) or raw files (ORG/REPO/raw/...);
// on other hosts they are plain files unless they carry git markers (?ref=, //, .git, _git/),
// which are refused: only GitHub archives can be fetched without git.
func parseRemote(entry string) (remoteSpec, error) {
	if !isHTTPURL(entry) {
		return parseGit(entry)
	}
	u, err := url.Parse(entry)
	if err != nil {
		return remoteSpec{}, fmt.Errorf("remote base %s: not a valid URL: %v", entry, err)
	}
	host := strings.ToLower(u.Host)
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	if host == "github.com" || host == "www.github.com" {
		release := len(segs) == 6 && segs[2] == "releases" && segs[3] == "download"
		if release || (len(segs) > 3 && segs[2] == "raw") {
			return fileSpec(entry, u, release, segs)
		}
		return parseGit(entry)
	}
	q := u.Query()
	if q.Get("ref") != "" || q.Get("version") != "" || strings.Contains(u.Path, "//") ||
		strings.Contains(u.Path, "_git/") || strings.Contains(u.Path, ".git/") || strings.HasSuffix(u.Path, ".git") {
		return parseGit(entry)
	}
	return fileSpec(entry, u, false, segs)
}

// fileSpec is a plain https file; a GitHub release asset gets the mirror name REPO-TAG-FILE.
func fileSpec(entry string, u *url.URL, release bool, segs []string) (remoteSpec, error) {
	clean := path.Clean("/" + u.Path)
	base := path.Base(clean)
	if base == "/" || base == "." {
		return remoteSpec{}, fmt.Errorf("remote resource %s: the URL names no file", entry)
	}
	s := remoteSpec{Entry: entry, URL: entry, Name: base}
	if release {
		s.Name = segs[1] + "-" + segs[4] + "-" + segs[5]
	}
	segs = []string{safeSegment(strings.ToLower(u.Host))}
	for _, seg := range strings.Split(strings.TrimPrefix(clean, "/"), "/") {
		segs = append(segs, safeSegment(seg))
	}
	if u.RawQuery != "" {
		// The file sits in a folder named after the path and query, so that queries never collide.
		last := segs[len(segs)-1]
		segs[len(segs)-1] = last + "-" + shortHash(u.RawQuery)
		segs = append(segs, last)
	}
	s.Local = strings.Join(segs, "/")
	return s, nil
}

// safeName is a file or folder name every kustomize file system accepts.
var safeName = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// unsafeChars are the characters safeSegment replaces.
var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// safeSegment keeps a path segment as it is when it is a safe name, else replaces the other
// characters and appends a hash of the original, so distinct segments stay distinct.
func safeSegment(s string) string {
	if safeName.MatchString(s) && s != "." && s != ".." {
		return s
	}
	return unsafeChars.ReplaceAllString(strings.Trim(s, "."), "_") + "-" + shortHash(s)
}

// shortHash is 8 hex digits of the sha256 of s.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

// parseGit splits a git-style URL the way kustomize does (host, ORG/REPO, optional "//" or
// ".git" or "_git/" before the path, ?ref= or ?version=) and maps a github.com one to its archive.
func parseGit(entry string) (remoteSpec, error) {
	s := entry
	if strings.HasPrefix(strings.ToLower(s), "git::") {
		s = s[len("git::"):]
	}
	s, query, _ := strings.Cut(s, "?")
	lower := strings.ToLower(s)
	for _, p := range []string{"https://", "http://", "ssh://", "file://"} {
		if strings.HasPrefix(lower, p) {
			if p == "file://" {
				return remoteSpec{}, fmt.Errorf("remote base %s: a local git repository is not read without git; "+
					"copy the folder into the tree and point the entry at it", entry)
			}
			s = s[len(p):]
			break
		}
	}
	if m := gitUser.FindString(s); m != "" {
		s = s[len(m):]
	}
	lower = strings.ToLower(s)
	if !strings.HasPrefix(lower, "github.com/") && !strings.HasPrefix(lower, "github.com:") {
		host, _, _ := strings.Cut(s, "/")
		host, _, _ = strings.Cut(host, ":")
		return remoteSpec{}, fmt.Errorf("remote base %s: git repositories on %s are not fetched (only github.com tag archives are); "+
			"vendor it: copy the folder into the tree and point the entry at the local copy", entry, host)
	}
	rest := s[len("github.com/"):]
	repoPath, rawPath := splitRepoPath(rest)
	parts := strings.Split(strings.TrimSuffix(strings.Trim(repoPath, "/"), ".git"), "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return remoteSpec{}, fmt.Errorf("remote base %s: want github.com/ORG/REPO[//PATH]?ref=TAG", entry)
	}
	kustPath := path.Clean(strings.Trim(rawPath, "/"))
	if kustPath == ".." || strings.HasPrefix(kustPath, "../") {
		return remoteSpec{}, fmt.Errorf("remote base %s: its path leaves the repository", entry)
	}
	if kustPath == "." {
		kustPath = ""
	}
	values, _ := url.ParseQuery(query)
	ref := values.Get("ref")
	if ref == "" {
		ref = values.Get("version")
	}
	if ref == "" {
		return remoteSpec{}, fmt.Errorf("remote base %s has no ?ref=: kustomize would clone the default branch, which moves; "+
			"pin a tag in the entry (...?ref=vX.Y.Z)", entry)
	}
	if !safeRef.MatchString(ref) || strings.Contains(ref, "..") {
		return remoteSpec{}, fmt.Errorf("remote base %s: ref %q is not a tag or commit name", entry, ref)
	}
	org, repo := parts[0], parts[1]
	spec := remoteSpec{Entry: entry, Archive: true, Org: org, Repo: repo, Ref: ref, Path: kustPath,
		Name:  repo + "-" + strings.ReplaceAll(strings.TrimPrefix(ref, "v"), "/", "-") + ".tar.gz",
		Local: "github.com/" + safeSegment(org) + "/" + safeSegment(repo) + "/" + safeSegment(ref)}
	if commitID.MatchString(ref) {
		spec.URL = "https://github.com/" + org + "/" + repo + "/archive/" + ref + ".tar.gz"
	} else {
		spec.URL = "https://github.com/" + org + "/" + repo + "/archive/refs/tags/" + ref + ".tar.gz"
	}
	return spec, nil
}

// splitRepoPath splits "ORG/REPO/PATH" at kustomize's explicit markers (_git/, //, .git) or
// else after two segments.
func splitRepoPath(n string) (repo, kust string) {
	if i := strings.Index(n, "_git/"); i >= 0 {
		seg, sub, _ := strings.Cut(n[i+len("_git/"):], "/")
		return n[:i+len("_git/")] + seg, sub
	}
	if i := strings.Index(n, "//"); i >= 0 {
		return n[:i], n[i+2:]
	}
	if i := strings.Index(n, ".git"); i >= 0 {
		return n[:i+len(".git")], n[i+len(".git"):]
	}
	segs := strings.SplitN(n, "/", 3)
	if len(segs) < 3 {
		return n, ""
	}
	return segs[0] + "/" + segs[1], segs[2]
}
