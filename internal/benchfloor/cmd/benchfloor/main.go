// Command benchfloor runs the benchmark's floor (package benchfloor) as a
// process of its own: it reads a benchfloor.Job as JSON on standard input,
// runs it, and writes the benchfloor.Result as JSON on standard output. It
// exits 1, listing every error on standard error, if any credential
// failed. The provider's benchmark builds and runs it; to run it by hand:
//
//	go run ./internal/benchfloor/cmd/benchfloor < job.json
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"

	"github.com/segura-community/terraform-provider-segura/internal/benchfloor"
)

func main() {
	os.Exit(run())
}

func run() int {
	var job benchfloor.Job
	if err := json.NewDecoder(os.Stdin).Decode(&job); err != nil {
		fmt.Fprintln(os.Stderr, "benchfloor: reading the job from standard input:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	idle, memErr := benchfloor.ProcessMemory(0)
	res, err := job.Run(ctx)
	res.IdleMemory = idle
	if memErr == nil {
		res.Memory, memErr = benchfloor.ProcessMemory(0)
	}
	if memErr != nil {
		fmt.Fprintln(os.Stderr, "benchfloor:", memErr)
	}
	if encErr := json.NewEncoder(os.Stdout).Encode(res); encErr != nil {
		fmt.Fprintln(os.Stderr, "benchfloor: writing the result:", encErr)
		return 2
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchfloor: %s of %d credential(s) failed (%d error(s)):\n", job.Op, len(job.Credentials), len(res.Errors))
		for _, e := range res.Errors {
			fmt.Fprintln(os.Stderr, "  "+e)
		}
		return 1
	}
	return 0
}
