# The versions of the tools rolegate pins, written once: the Makefile includes
# this file and internal/local/proc embeds it for its install hints.
RIE_VERSION      := v0.0.0-20261030222936-bef5c4ba774d
CFN_LINT_VERSION := 1.51.0
CFNGUARD_PKG     := @cdklabs/cdk-validator-cfnguard@0.0.62
