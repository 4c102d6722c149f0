package deploy

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/rolegate/rolegate/internal/cfn"
)

func (c *checker) logRetention(report reporter) {
	for _, lg := range c.t.ResourcesOfType("AWS::Logs::LogGroup") {
		if !c.positive(lg.Properties["RetentionInDays"]) {
			report(lg.Name, "RetentionInDays must be set: without it logs are kept forever")
		}
	}
}

func (c *checker) functionLogging(report reporter) {
	for _, f := range c.t.ResourcesOfType("AWS::Lambda::Function") {
		lc, _ := f.Properties["LoggingConfig"].(map[string]any)
		if lc["LogFormat"] != "JSON" {
			report(f.Name, "LoggingConfig.LogFormat must be JSON, got %s", show(lc["LogFormat"]))
		}
		if lg, ok := cfn.RefTarget(lc["LogGroup"]); !ok || !c.isType(lg, "AWS::Logs::LogGroup") {
			report(f.Name, "LoggingConfig.LogGroup must be !Ref a log group of this template (with retention), got %s", show(lc["LogGroup"]))
		}
	}
}

func (c *checker) functionRuntime(report reporter) {
	for _, f := range c.t.ResourcesOfType("AWS::Lambda::Function") {
		p := f.Properties
		if p["Runtime"] != "provided.al2023" {
			report(f.Name, "Runtime must be provided.al2023, got %s", show(p["Runtime"]))
		}
		if a := cfn.List(p["Architectures"]); len(a) != 1 || a[0] != "arm64" {
			report(f.Name, "Architectures must be [arm64], got %v", a)
		}
		if p["Handler"] != "bootstrap" {
			report(f.Name, "Handler must be bootstrap, got %s", show(p["Handler"]))
		}
		if m, ok := c.number(p["MemorySize"]); !ok || m != 128 {
			report(f.Name, "MemorySize must be 128, got %s", show(p["MemorySize"]))
		}
		if t, ok := c.number(p["Timeout"]); !ok || t < 1 || t > 10 {
			report(f.Name, "Timeout must be 1..10 seconds, got %s", show(p["Timeout"]))
		}
		if _, ok := c.fnRole[f.Name]; !ok {
			report(f.Name, "Role must be !GetAtt <role of this template>.Arn, got %s", show(p["Role"]))
		}
		if tc, _ := p["TracingConfig"].(map[string]any); tc["Mode"] != "Active" {
			report(f.Name, "TracingConfig.Mode must be Active (X-Ray), got %s", show(tc["Mode"]))
		}
	}
}

var mebibytes = regexp.MustCompile(`^([0-9]+)MiB$`)

// memoryLimit: without GOMEMLIMIT the Go heap may grow to twice the live
// data before it collects, past MemorySize, and Lambda kills the function.
func (c *checker) memoryLimit(report reporter) {
	for _, f := range c.t.ResourcesOfType("AWS::Lambda::Function") {
		size, ok := c.number(f.Properties["MemorySize"])
		if !ok {
			continue // function-runtime
		}
		v, _ := env(f)["GOMEMLIMIT"].(string)
		m := mebibytes.FindStringSubmatch(v)
		if m == nil {
			report(f.Name, "GOMEMLIMIT must be set in MiB (e.g. %dMiB for MemorySize %v), got %q", int(size*0.86), size, v)
			continue
		}
		n, _ := strconv.Atoi(m[1])
		if float64(n) < 0.8*size || float64(n) > 0.9*size {
			report(f.Name, "GOMEMLIMIT %s is not 80..90%% of MemorySize %v MB: leave the runtime its share, and use the rest", v, size)
		}
	}
}

func (c *checker) metricsNamespace(report reporter) {
	for _, f := range c.t.ResourcesOfType("AWS::Lambda::Function") {
		ns, ok := c.t.ResolveDefault(env(f)["METRICS_NAMESPACE"])
		if s, _ := ns.(string); !ok || s == "" {
			report(f.Name, "METRICS_NAMESPACE must be set (a literal or !Ref a parameter with a Default), got %s", show(env(f)["METRICS_NAMESPACE"]))
		}
	}
}

func (c *checker) authorizerEnv(report reporter) {
	for _, fn := range c.authFns {
		f, _ := c.t.Resource(fn)
		vars := env(f)
		pool, ok := listHead(vars["USER_POOL_ID"])
		if !ok || !c.isType(pool, "AWS::Cognito::UserPool") {
			report(fn, "USER_POOL_ID must start with !Ref the user pool, got %s", show(vars["USER_POOL_ID"]))
			continue
		}
		client, ok := listHead(vars["APP_CLIENT_IDS"])
		cr, found := c.t.Resource(client)
		if !ok || !found || cr.Type != "AWS::Cognito::UserPoolClient" {
			report(fn, "APP_CLIENT_IDS must start with !Ref an app client, got %s", show(vars["APP_CLIENT_IDS"]))
			continue
		}
		if p, _ := cfn.RefTarget(cr.Properties["UserPoolId"]); p != pool {
			report(fn, "app client %s belongs to %s, not USER_POOL_ID's %s", client, p, pool)
		}
	}
}

// listHead returns what the first item of a comma-separated list refers to: v's target when v is a !Ref, the first
// item's of a !Join [",", [...]], and the same one through both branches of an !If.
func listHead(v any) (string, bool) {
	if r, ok := cfn.RefTarget(v); ok {
		return r, true
	}
	m, _ := v.(map[string]any)
	if f := cfn.List(m["Fn::If"]); len(m) == 1 && len(f) == 3 {
		a, okA := listHead(f[1])
		b, okB := listHead(f[2])
		return a, okA && okB && a == b
	}
	if f := cfn.List(m["Fn::Join"]); len(m) == 1 && len(f) == 2 && f[0] == "," {
		if items := cfn.List(f[1]); len(items) > 0 {
			return listHead(items[0])
		}
	}
	return "", false
}

// watched are the EMF metrics an operator must hear about: the metric, the
// Outcome dimension's value, and which functions write it.
var watched = []struct{ metric, outcome, writer string }{
	{"Decisions", "error", "authorizer"},
	{"Decisions", "unauthorized", "authorizer"},
	{"Requests", "sts_error", "backend"},
	{"Requests", "throttled", "backend"},
}

func (c *checker) alarms(report reporter) {
	found := map[string]bool{}
	for _, a := range c.t.ResourcesOfType("AWS::CloudWatch::Alarm") {
		p := a.Properties
		outcome := ""
		for _, d := range cfn.List(p["Dimensions"]) {
			if dm, _ := d.(map[string]any); dm["Name"] == "Outcome" {
				outcome, _ = dm["Value"].(string)
			}
		}
		metric, _ := p["MetricName"].(string)
		found[metric+"/"+outcome] = true
		for _, fn := range slices.Concat(c.authFns, c.backendFns) {
			f, _ := c.t.Resource(fn)
			if show(p["Namespace"]) != show(env(f)["METRICS_NAMESPACE"]) {
				report(a.Name, "Namespace %s is not %s's METRICS_NAMESPACE %s: the alarm would watch nothing", show(p["Namespace"]), fn, show(env(f)["METRICS_NAMESPACE"]))
			}
		}
		if p["TreatMissingData"] != "notBreaching" {
			report(a.Name, "TreatMissingData must be notBreaching: no traffic is not an incident")
		}
		topic := false
		for _, r := range cfn.References(p["AlarmActions"]) {
			topic = topic || r.Target == "AlarmTopicArn"
		}
		if !topic {
			report(a.Name, "AlarmActions must notify !Ref AlarmTopicArn when it is set")
		}
	}
	for _, w := range watched {
		if !found[w.metric+"/"+w.outcome] {
			report(w.writer, "no alarm on %s with Outcome=%s", w.metric, w.outcome)
		}
	}
}

// dashboardMetrics are what the dashboard must show.
var dashboardMetrics = []string{"Decisions", "CacheHit", "AssumeRoleCalls", "AssumeRoleLatency"}

// dashboard: CloudFormation accepts any string as a body; CloudWatch refuses
// one that is not JSON, and the stack rolls back.
func (c *checker) dashboard(report reporter) {
	boards := c.t.ResourcesOfType("AWS::CloudWatch::Dashboard")
	if len(boards) == 0 {
		report("Dashboard", "no AWS::CloudWatch::Dashboard: operators get no view of the metrics")
	}
	for _, d := range boards {
		body, vars, ok := cfn.SubString(d.Properties["DashboardBody"])
		if !ok || vars != nil {
			report(d.Name, "DashboardBody must be a !Sub string, got %s", show(d.Properties["DashboardBody"]))
			continue
		}
		var doc struct{ Widgets []any }
		if err := json.Unmarshal([]byte(cfn.ReplaceSubVariables(body, "x")), &doc); err != nil || len(doc.Widgets) == 0 {
			report(d.Name, "DashboardBody is not JSON with widgets: %v", err)
		}
		if !strings.Contains(body, "${MetricsNamespace}") {
			report(d.Name, "DashboardBody does not use ${MetricsNamespace}, the functions' namespace")
		}
		for _, m := range dashboardMetrics {
			if !strings.Contains(body, m) {
				report(d.Name, "DashboardBody does not show %s", m)
			}
		}
	}
}
