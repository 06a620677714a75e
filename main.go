// Command terraform-provider-segura serves the segura Terraform provider over
// the plugin protocol (version 6).
package main

import (
	"flag"
	"log"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

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
	var opts []tf6server.ServeOpt
	if debug {
		opts = append(opts, tf6server.WithManagedDebug())
	}
	server, err := gateCPUBound(providerserver.NewProtocol6(provider.New(version)())())
	if err == nil {
		err = tf6server.Serve(address, func() tfprotov6.ProviderServer { return server }, opts...)
	}
	stopProfiling()
	if err != nil {
		log.Fatal(err.Error())
	}
}
