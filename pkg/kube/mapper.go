package kube

import (
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// memoMapper keeps the REST mappings a run has asked for. kubectl's discovery-backed mapper
// answers each RESTMapping call by walking every group's mapper again (about 0.1 ms and a few
// allocations a call); an apply asks for one per object and per check, hundreds of times for a
// few dozen kinds. Only answers are kept (an error, e.g. a kind not served yet, is asked again),
// and Reset forgets them with the discovery the mapper holds.
type memoMapper struct {
	meta.ResettableRESTMapper
	mu   sync.RWMutex
	memo map[string]*meta.RESTMapping
}

// newMemoMapper wraps m; a mapper that cannot be reset is returned as it is (it can never learn
// a new kind, so a memo adds nothing it could get wrong, but nothing to forget either).
func newMemoMapper(m meta.RESTMapper) meta.RESTMapper {
	r, ok := m.(meta.ResettableRESTMapper)
	if !ok {
		return m
	}
	return &memoMapper{ResettableRESTMapper: r, memo: map[string]*meta.RESTMapping{}}
}

// RESTMapping is the wrapped mapper's answer, kept per group, kind and versions asked.
func (m *memoMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	key := gk.String() + "/" + strings.Join(versions, ",")
	m.mu.RLock()
	got, ok := m.memo[key]
	m.mu.RUnlock()
	if ok {
		return got, nil
	}
	got, err := m.ResettableRESTMapper.RESTMapping(gk, versions...)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.memo[key] = got
	m.mu.Unlock()
	return got, nil
}

// Reset forgets the kept mappings and the wrapped mapper's discovery.
func (m *memoMapper) Reset() {
	m.mu.Lock()
	m.memo = map[string]*meta.RESTMapping{}
	m.mu.Unlock()
	m.ResettableRESTMapper.Reset()
}
