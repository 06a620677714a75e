package main

import (
	"os"
	"strings"
)

// The levels of the plugin-side loggers that terraform-plugin-go and the
// framework read from the environment (terraform-plugin-go
// internal/logging/environment_variables.go; the framework's subsystem is
// TF_LOG_SDK_FRAMEWORK; the provider's own logger reads
// TF_LOG_PROVIDER_<NAME>). Unset, each defaults to TRACE
// (tfsdklog.NewRootSDKLogger): the plugin formats every trace line of every
// request as JSON on stderr, and Terraform decides afterwards whether to keep
// it.
var pluginLogLevelEnv = []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_PROVIDER_SEGURA"}

// terraformKeepsProviderLogs reports whether the Terraform (or OpenTofu)
// process that started the plugin keeps any of its log lines. Both read the
// provider's level the same way (internal/logging/logging.go,
// providerLogLevel): TF_LOG_PROVIDER, else TF_LOG; empty or OFF means off,
// and any other value, valid or not, keeps something. The plugin inherits
// Terraform's environment, so it sees the same variables.
func terraformKeepsProviderLogs(getenv func(string) string) bool {
	level := strings.ToUpper(strings.TrimSpace(getenv("TF_LOG_PROVIDER")))
	if level == "" {
		level = strings.ToUpper(strings.TrimSpace(getenv("TF_LOG")))
	}
	return level != "" && level != "OFF"
}

// silenceDiscardedLogs turns the plugin-side loggers off when Terraform
// would throw their lines away: formatting them cost about a tenth of the
// plugin's CPU in a 100-credential plan, and their allocations more in
// garbage collection. A level the user set for one of them explicitly is
// left alone, and so is everything when Terraform keeps the lines (TF_LOG
// or TF_LOG_PROVIDER set) or in debug mode, where the lines go straight to
// the debugger's terminal.
func silenceDiscardedLogs(debug bool) {
	if debug || terraformKeepsProviderLogs(os.Getenv) {
		return
	}
	for _, name := range pluginLogLevelEnv {
		if _, set := os.LookupEnv(name); !set {
			_ = os.Setenv(name, "OFF")
		}
	}
}
