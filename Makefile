# kubectl flexigrobots — see README.md. `make demo` and `make test` set up everything they need.
SHELL := /bin/bash
VERSION ?= dev
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X github.com/flexigrobots/kubectl-flexigrobots/internal/buildinfo.Version=$(VERSION) \
           -X github.com/flexigrobots/kubectl-flexigrobots/internal/buildinfo.Commit=$(COMMIT)
BIN     := bin/kubectl-flexigrobots
TESTBIN ?= $(CURDIR)/.testbin
export TESTBIN
GOTEST_TIMEOUT ?= 75m

.PHONY: all build test unit e2e testbin demo sim lint bench bench-kubeflow bench-profile bench-platform bench-mirror bench-startup dist clean

all: build

build: ## build bin/kubectl-flexigrobots and its kubectl completion helper bin/kubectl_complete-flexigrobots
	go build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/kubectl-flexigrobots
	install -m 0755 hack/kubectl_complete-flexigrobots $(dir $(BIN))kubectl_complete-flexigrobots

testbin: ## build the test-bed binaries (cached by version in .testbin/): full beds v1.37 and v1.21, apiserver-only beds for the extra minors (APISERVER_VERSIONS="" skips those)
	hack/testbin.sh all

test: testbin build ## unit + end-to-end tests on the simulated cluster
	PLUGIN_BIN=$(CURDIR)/$(BIN) go test -count=1 -timeout $(GOTEST_TIMEOUT) ./...

unit: ## unit tests only (no test bed)
	go test -short ./...

lint: ## gofmt + go vet
	@out=$$(gofmt -l cmd pkg internal test); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...

sim: ## start the simulated RKE cluster in the foreground (prints export KUBECONFIG=...)
	hack/testbin.sh v1.37.2
	go build -o bin/sim ./test/cmd/sim
	@# exec, not go run: go run exits 1 after Ctrl-C and make would report "Error 1"; the sim
	@# itself stops cleanly and exits 0, so make says nothing.
	exec bin/sim $(SIM_ARGS)

demo: build ## build, start the test bed, run every subcommand against it, stop
	hack/testbin.sh v1.37.2
	hack/demo.sh

bench: testbin ## apply engine vs kubectl apply --server-side on the test bed (Kubeflow v1.10.2)
	go run ./bench/applybench --manifests ../shared/fixtures/kubeflow/manifests-1.10.2.tar.gz

bench-kubeflow: testbin build ## kubeflow vs the runbook's way: the whole command end to end, then the converge vs kubectl apply --server-side (first apply, no-op re-run)
	go run ./bench/kubeflowbench --manifests ../shared/fixtures/kubeflow/manifests-1.10.2.tar.gz --plugin $(BIN)

bench-profile: testbin build ## profile poddefault --all-profiles vs the runbook's kubectl loop on 500 profiles; verify at scale (100 nodes)
	go run ./bench/profilebench --manifests ../shared/fixtures/kubeflow/manifests-1.10.2.tar.gz --plugin $(BIN)

bench-platform: testbin build ## apply -f of the whole platform vs the runbook's commands (helm x3, kubectl steps, apply loop), fresh bed per side
	go run ./bench/platformbench --plugin $(BIN) --pairs 3

bench-mirror: build ## images mirror vs a crane copy loop over Kubeflow 26.03's images, between stand-in registries on loopback
	go build -o .testbin/tools/crane github.com/google/go-containerregistry/cmd/crane
	go run ./bench/mirrorbench --plugin $(BIN)

dist: ## release archives + sha256sums.txt in dist/ and krew-manifest.yaml (VERSION=vX.Y.Z)
	go run ./hack/dist -version '$(VERSION)' -commit '$(COMMIT)' -out dist -manifest krew-manifest.yaml

bench-startup: build ## start-up time of --help and version --client vs kubectl version --client
	bench/startup.sh

clean:
	rm -rf bin dist
