# deploy/deploy.mk: deploy rolegate to AWS with plain CloudFormation and the
# aws CLI, and check the template. Included by the top-level Makefile.
#
#   make package BUCKET=my-artifacts          upload the zips, write build/packaged.yaml
#   make deploy  STACK=rolegate BUCKET=my-artifacts [options below]
#   make smoke   STACK=rolegate [GROUP=admins]
#   make destroy STACK=rolegate
#   make cfn-lint                             offline: cfn-lint + project rules + Control Tower controls
#   make guard-tools                          npm: cfn-guard and the Control Tower rules into .tools/
#
# deploy options (each unset one keeps the stack's current value, or the
# template's default on a new stack):
#   AUTH_TTL=300               authorizer cache TTL in seconds (0..3600)
#   STAGE=prod                 stage name
#   PASSWORD_AUTH=true         allow USER_PASSWORD_AUTH (make smoke needs it)
#   DELETION_PROTECTION=INACTIVE  let make destroy delete the user pool (a new
#                              stack is always created INACTIVE, then set ACTIVE
#                              unless this says INACTIVE)
#   USER_POOL_TIER=ESSENTIALS  Cognito feature plan (default LITE)
#   ALARM_TOPIC=arn:...:sns:...  SNS topic the alarms notify
#   EXECUTION_LOGS=ERROR       API Gateway execution logging (needs the account's
#                              API Gateway CloudWatch role)
#   LOG_RETENTION=30           days of CloudWatch logs (default 365)
#   PARAMS="Key=Value ..."     any other parameter override
# REGION=eu-west-1 picks the region; otherwise the aws CLI's own settings do.
# S3_PREFIX=rolegate is the key prefix of the uploaded zips.

GO        ?= go
AWS       ?= aws
NPM       ?= npm
S3_PREFIX ?= rolegate
TEMPLATE  := deploy/template.yaml
PACKAGED  := build/packaged.yaml

# cfn-guard 3.1 and the AWS Control Tower proactive controls, from npm into a
# git-ignored directory of the project (make guard-tools).
# CFNGUARD_PKG is pinned in internal/local/proc/pins.mk (the Makefile includes it).
GUARD_DIR    := .tools/node_modules/@cdklabs/cdk-validator-cfnguard

AWS_CMD = $(AWS)$(if $(REGION), --region $(REGION))

PACKAGE_USAGE := make package BUCKET=<artifact bucket>
DEPLOY_USAGE  := make deploy STACK=<stack name> BUCKET=<artifact bucket>
DESTROY_USAGE := make destroy STACK=<stack name>
SMOKE_USAGE   := make smoke STACK=<stack name> [GROUP=admins]

# need fails make with "VAR is required: usage" when VAR is empty.
need = $(if $($(1)),,$(error $(1) is required: $(2)))

# Missing parameters fail at once, before `make build` runs for nothing.
ifneq ($(filter package,$(MAKECMDGOALS)),)
$(call need,BUCKET,$(PACKAGE_USAGE))
endif
ifneq ($(filter deploy,$(MAKECMDGOALS)),)
$(call need,STACK,$(DEPLOY_USAGE))
$(call need,BUCKET,$(DEPLOY_USAGE))
endif
ifneq ($(filter destroy,$(MAKECMDGOALS)),)
$(call need,STACK,$(DESTROY_USAGE))
endif
ifneq ($(filter smoke,$(MAKECMDGOALS)),)
$(call need,STACK,$(SMOKE_USAGE))
endif

OVERRIDES = $(strip \
	$(if $(AUTH_TTL),AuthorizerCacheTtl=$(AUTH_TTL)) \
	$(if $(STAGE),StageName=$(STAGE)) \
	$(if $(PASSWORD_AUTH),EnablePasswordAuth=$(PASSWORD_AUTH)) \
	$(if $(DELETION_PROTECTION),UserPoolDeletionProtection=$(DELETION_PROTECTION)) \
	$(if $(LOG_RETENTION),LogRetentionDays=$(LOG_RETENTION)) \
	$(if $(USER_POOL_TIER),UserPoolTier=$(USER_POOL_TIER)) \
	$(if $(ALARM_TOPIC),AlarmTopicArn=$(ALARM_TOPIC)) \
	$(if $(EXECUTION_LOGS),ExecutionLogLevel=$(EXECUTION_LOGS)) \
	$(PARAMS))

DEPLOY_ARGS = --stack-name $(STACK) --template-file $(PACKAGED) \
	--capabilities CAPABILITY_NAMED_IAM --no-fail-on-empty-changeset --tags project=rolegate

# The stack's physical ID of logical resource $(1), or a clear failure.
stack-resource = $(AWS_CMD) cloudformation describe-stack-resource --stack-name $(STACK) \
	--logical-resource-id $(1) --query StackResourceDetail.PhysicalResourceId --output text

.PHONY: package deploy destroy smoke cfn-lint aws-identity guard-tools

aws-identity:
	@echo "aws-identity: $(AWS_CMD) sts get-caller-identity"
	@who=$$($(AWS_CMD) sts get-caller-identity --query Arn --output text 2>&1) || { \
		echo "aws-identity: cannot confirm AWS credentials: $$who" >&2; \
		echo "aws-identity: configure them first (aws configure, AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and a region (REGION=... or AWS_DEFAULT_REGION)" >&2; \
		exit 1; }; \
	echo "aws-identity: acting as $$who"

package: aws-identity build ## upload the function zips, write build/packaged.yaml: make package BUCKET=<bucket>
	@: $(call need,BUCKET,$(PACKAGE_USAGE))
	@echo "package: upload build/authorizer.zip and build/backend.zip to s3://$(BUCKET)/$(S3_PREFIX)/, write $(PACKAGED)"
	$(AWS_CMD) cloudformation package --template-file $(TEMPLATE) --s3-bucket $(BUCKET) --s3-prefix $(S3_PREFIX) \
		--output-template-file $(PACKAGED)
	@if command -v cfn-lint >/dev/null 2>&1; then \
		echo "package: cfn-lint $(PACKAGED) (informational rules on; must be silent)"; \
		cfn-lint --include-checks I -- $(PACKAGED); \
	else \
		echo "package: cfn-lint not installed, $(PACKAGED) not linted (pip install cfn-lint)"; \
	fi

# After the stack update, deploy makes a new API deployment: CloudFormation
# snapshots the API only when it creates the Deployment resource, so later
# changes to methods, the authorizer (AUTH_TTL) or gateway responses would
# not reach the stage otherwise.
deploy: package ## create or update the stack: make deploy STACK=<name> BUCKET=<bucket> [PASSWORD_AUTH=true ...]
	@: $(call need,STACK,$(DEPLOY_USAGE))
	@echo "$(STACK)" | grep -Eq '^[a-z][-a-z0-9]{0,37}$$' || { \
		echo "deploy: STACK must be a lower-case letter then up to 37 lower-case letters, digits or dashes: group roles are named <STACK>-<region>-<group> (64 characters at most with the longest region names), and IAM role names ignore case" >&2; exit 1; }
	@echo "deploy: stack $(STACK) from $(PACKAGED); CAPABILITY_NAMED_IAM because it creates the roles $(STACK)-<region>-admins and $(STACK)-<region>-readers"
	@echo "deploy: parameter overrides: $(if $(OVERRIDES),$(OVERRIDES),none (new stack: template defaults; existing stack: current values))"
	@status=$$($(AWS_CMD) cloudformation describe-stacks --stack-name $(STACK) --query 'Stacks[0].StackStatus' --output text 2>&1) || \
	case $$status in *"does not exist"*) status=NEW;; *) echo "deploy: cannot read stack $(STACK): $$status" >&2; exit 1;; esac; \
	case $$status in \
	ROLLBACK_FAILED|ROLLBACK_COMPLETE|DELETE_FAILED|UPDATE_ROLLBACK_FAILED) \
		echo "deploy: stack $(STACK) is $$status and cannot be updated: see docs/deploy.md, \"Recovering a stuck stack\"" >&2; exit 1;; \
	esac; \
	if [ "$$status" = NEW ]; then \
		protect=$(or $(DELETION_PROTECTION),ACTIVE); \
		echo "deploy: new stack: the user pool is created unprotected, so a failed create can roll back; deletion protection becomes $$protect once the stack is complete"; \
		$(AWS_CMD) cloudformation deploy $(DEPLOY_ARGS) --parameter-overrides UserPoolDeletionProtection=INACTIVE $(filter-out UserPoolDeletionProtection=%,$(OVERRIDES)) || exit 1; \
		if [ "$$protect" = ACTIVE ]; then \
			echo "deploy: turn on the user pool's deletion protection"; \
			$(AWS_CMD) cloudformation deploy $(DEPLOY_ARGS) --parameter-overrides UserPoolDeletionProtection=ACTIVE || exit 1; \
		fi; \
	else \
		$(AWS_CMD) cloudformation deploy $(DEPLOY_ARGS) $(if $(OVERRIDES),--parameter-overrides $(OVERRIDES)) || exit 1; \
	fi
	@api=$$($(call stack-resource,Api)) && stage=$$($(call stack-resource,Stage)) && \
	echo "deploy: aws apigateway create-deployment --rest-api-id $$api --stage-name $$stage (so the stage serves the API as now configured)" && \
	$(AWS_CMD) apigateway create-deployment --rest-api-id "$$api" --stage-name "$$stage" \
		--description "make deploy STACK=$(STACK)" --query id --output text >/dev/null
	@echo "deploy: outputs of $(STACK)"
	@$(AWS_CMD) cloudformation describe-stacks --stack-name $(STACK) --query 'Stacks[0].Outputs[].[OutputKey,OutputValue]' --output text

destroy: aws-identity ## delete the stack, its users, roles, logs and data bucket: make destroy STACK=<name>
	@: $(call need,STACK,$(DESTROY_USAGE))
	@echo "destroy: stack $(STACK)"
	@pool=$$($(call stack-resource,UserPool)) || { echo "destroy: cannot read stack $(STACK) (does it exist in this region?)" >&2; exit 1; }; \
	protection=$$($(AWS_CMD) cognito-idp describe-user-pool --user-pool-id "$$pool" --query UserPool.DeletionProtection --output text) || exit 1; \
	if [ "$$protection" = ACTIVE ]; then \
		echo "destroy: user pool $$pool has deletion protection ACTIVE, so deleting the stack would fail half-way." >&2; \
		echo "destroy: if its users may go, first: make deploy STACK=$(STACK) BUCKET=<bucket> DELETION_PROTECTION=INACTIVE" >&2; \
		exit 1; \
	fi
	@bucket=$$($(call stack-resource,DataBucket)) || exit 1; \
	echo "destroy: empty s3://$$bucket, every version (CloudFormation cannot delete a bucket with objects)"; \
	while :; do \
		batch=$$($(AWS_CMD) s3api list-object-versions --bucket "$$bucket" --max-items 1000 --output json \
			--query '{Objects: [Versions, DeleteMarkers][][].{Key: Key, VersionId: VersionId}, Quiet: `true`}') || exit 1; \
		case $$batch in *'"Key"'*) ;; *) break;; esac; \
		$(AWS_CMD) s3api delete-objects --bucket "$$bucket" --delete "$$batch" >/dev/null || exit 1; \
	done
	@echo "destroy: delete stack $(STACK) and wait"
	$(AWS_CMD) cloudformation delete-stack --stack-name $(STACK)
	$(AWS_CMD) cloudformation wait stack-delete-complete --stack-name $(STACK)
	@echo "destroy: $(STACK) deleted"

smoke: aws-identity ## checks on a deployed stack: user in a group, ID token, /whoami, own users/<sub>/ prefix: make smoke STACK=<name> [GROUP=admins]
	@: $(call need,STACK,$(SMOKE_USAGE))
	AWS="$(AWS_CMD)" bash deploy/smoke.sh $(STACK) $(or $(GROUP),admins)

guard-tools: ## install cfn-guard and the Control Tower rules into .tools/ (npm)
	@test -d $(GUARD_DIR) || { \
		command -v $(NPM) >/dev/null 2>&1 || { echo "guard-tools: npm missing: install Node.js, then: make guard-tools" >&2; exit 1; }; \
		echo "guard-tools: npm install $(CFNGUARD_PKG) into .tools/"; \
		$(NPM) install --prefix .tools --no-audit --no-fund --silent $(CFNGUARD_PKG); }

cfn-lint: guard-tools ## cfn-lint (informational rules on) on the source and packaged templates (REST and HTTP API), the project rules, the Control Tower controls
	@command -v cfn-lint >/dev/null 2>&1 || { echo 'cfn-lint: not installed: pip install "cfn-lint==$(CFN_LINT_VERSION)"' >&2; exit 1; }
	@mkdir -p build
	@echo "cfn-lint: project rules and Control Tower controls (cfn-guard, the table in docs/deploy.md); packaged form written offline"
	$(GO) run ./cmd/rolegate-check -template $(TEMPLATE) -packaged build/packaged-offline.yaml -guard $(GUARD_DIR) -controls docs/deploy.md
	@echo "cfn-lint: $(TEMPLATE) (source form; W3002 'only works with package' is how it is meant to be used) and the packaged form"
	cfn-lint --include-checks I --ignore-checks W3002 -- $(TEMPLATE)
	cfn-lint --include-checks I -- build/packaged-offline.yaml
	@echo "cfn-lint: deploy/http-api.yaml, the HTTP API template: the project rules, then cfn-lint on both forms (the Control Tower table is template.yaml's)"
	$(GO) run ./cmd/rolegate-check -template deploy/http-api.yaml -packaged build/packaged-http-api-offline.yaml
	cfn-lint --include-checks I --ignore-checks W3002 -- deploy/http-api.yaml
	cfn-lint --include-checks I -- build/packaged-http-api-offline.yaml
