// Command terraform-provider-segura serves the segura Terraform provider over
// the plugin protocol (version 6).
package main

import (
	"context"
	"flag"
	"log"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/segura-community/terraform-provider-segura/internal/provider"
)

// version is set by goreleaser at release time.
var version = "dev"

// Address is the provider's registry address; the demo's dev_overrides use it too.
const address = "registry.terraform.io/segura-community/segura"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()

	tuneGarbageCollector(os.Getenv)
	silenceDiscardedLogs(debug)
	stopProfiling := startProfiling()
	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: address,
		Debug:   debug,
	})
	stopProfiling()
	if err != nil {
		log.Fatal(err.Error())
	}
}
