# rolegate: build, test and run. `make help` lists the targets.

GOARCH      ?= arm64
GO          ?= go
# encoding/json on the json/v2 implementation: the same code allocates less
# on the token path (52 against 75 allocations per fresh token). Without it
# the code is unchanged and stays correct, which make test checks.
export GOEXPERIMENT ?= jsonv2

# RIE_VERSION, CFN_LINT_VERSION, CFNGUARD_PKG: the tool versions, written once.
include internal/local/proc/pins.mk
STATICCHECK  := honnef.co/go/tools/cmd/staticcheck@v0.8.2
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w'
FUNCTIONS    := authorizer backend
# BACKEND is the Go main package the backend function is built from, by
# make run, make build and so make deploy: your own routes on
# backend.Handler.Proxy (docs/build-your-api.md), e.g. BACKEND=./examples/hello.
BACKEND      ?= ./cmd/backend

.PHONY: help build test bench lint fmt clean tools run token loadtest fuzz

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: $(foreach f,$(FUNCTIONS),build/$(f)/bootstrap build/$(f).zip) ## Lambda bootstraps and zips for provided.al2023 (GOARCH, default arm64)

build/%/bootstrap: FORCE
	@echo "build $@ (linux/$(GOARCH))"
	@mkdir -p $(@D)
	CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH) $(GO) build $(LAMBDA_FLAGS) -o $@ $(if $(filter backend,$*),$(BACKEND),./cmd/$*)

build/%.zip: build/%/bootstrap
	@rm -f $@
	cd build/$* && zip -q -X ../$*.zip bootstrap
	@echo "wrote $@"

FORCE:

# What make run needs, looked for where the stack looks (PATH, then go env
# GOBIN and GOPATH's bin): aws-lambda-rie, installed if missing, and moto_server.
tools: ## install aws-lambda-rie if missing, check for moto_server (all make run needs)
	@command -v aws-lambda-rie >/dev/null 2>&1 || test -x "$$($(GO) env GOBIN)/aws-lambda-rie" || \
		test -x "$$($(GO) env GOPATH | cut -d: -f1)/bin/aws-lambda-rie" || \
		(echo "install aws-lambda-rie $(RIE_VERSION)" && \
		 $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION))
	@command -v moto_server >/dev/null 2>&1 || { echo 'tools: moto_server missing: pip install "moto[server]"' >&2; exit 1; }

test: tools guard-tools ## run every test (unit, RIE, moto, CloudFormation checks, end to end); also needs cfn-lint and npm
	@command -v cfn-lint >/dev/null 2>&1 || { echo 'test: cfn-lint missing: pip install "cfn-lint==$(CFN_LINT_VERSION)"' >&2; exit 1; }
	@echo "the token path again on the classic encoding/json implementation"
	GOEXPERIMENT= $(GO) test -count=1 ./authorizer/
	@mkdir -p build && $(GO) build -o build/testsum ./internal/testkit/testsum
	@echo "$(GO) test -count=1 ./... (ends with a summary: packages, tests, skipped, time)"
	@$(GO) test -count=1 -json ./... | build/testsum

bench: ## run the benchmarks
	$(GO) test -run '^$$' -bench . -benchmem ./...

fuzz: ## run each fuzz target for FUZZTIME (default 30s)
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $${FUZZTIME:-30s} $$pkg || exit 1; \
		done; \
	done

lint: cfn-lint ## gofmt, go vet (with and without jsonv2), staticcheck, cfn-lint
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	GOEXPERIMENT= $(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

fmt: ## gofmt the tree
	gofmt -w $$(git ls-files '*.go')

clean: ## remove build output
	rm -rf build

# The local tool is built, then run, so that Ctrl-C reaches it directly and
# ends `make run` cleanly (`go run` would turn a clean stop into exit 1).
build/rolegate-local: FORCE
	@mkdir -p build
	@$(GO) build -o $@ ./cmd/rolegate-local

run: tools build/rolegate-local ## the whole system locally on 127.0.0.1:3000 (PORT overrides) until Ctrl-C; API=http [AUTHORIZER=jwt]: the HTTP API; BACKEND=./cmd/x: your backend
	exec build/rolegate-local run $(if $(API),-api $(API)) $(if $(AUTHORIZER),-authorizer $(AUTHORIZER)) -backend $(BACKEND) $(if $(RAW),-raw)

# NAME, not USER: every shell sets USER, and a token for the login user is not
# what anyone asked for.
token: build/rolegate-local ## print an ID token for the running stack: make token NAME=alice GROUP=admins [EXPIRED=1] [CLAIMS='k=v ...']
	@$(if $(NAME),,$(error NAME is required: make token NAME=alice GROUP=admins))
	@build/rolegate-local token -user "$(NAME)" -group "$(GROUP)" $(if $(filter 1 true yes,$(EXPIRED)),-expired) $(foreach c,$(CLAIMS),-claim '$(c)')

loadtest: tools build/rolegate-local ## N requests from M users through the local gateway: make loadtest N=1000 USERS=10 CONCURRENCY=10
	build/rolegate-local loadtest -n $${N:-1000} -users $${USERS:-10} -concurrency $${CONCURRENCY:-10}

include deploy/deploy.mk
