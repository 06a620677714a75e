// Command opentofu prints the path of the OpenTofu build the acceptance tests
// run on, building it into the user cache first if it is not there yet:
//
//	go run ./internal/opentofu/cmd/opentofu    # or: make tofu
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/segura-community/terraform-provider-segura/internal/opentofu"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	bin, err := opentofu.Binary(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "opentofu:", err)
		os.Exit(1)
	}
	fmt.Println(bin)
}
