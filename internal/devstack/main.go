// Command devstack runs the local stack — FerretDB and the Key Vault
// emulator — until interrupted, for the quickstart and for poking at the
// provider by hand:
//
//	go run ./internal/devstack --dir DIR
//
// Once both servers answer it writes DIR/devstack.json (see
// localstack.Config for its fields). SIGINT or SIGTERM stop both servers
// cleanly and remove devstack.json. For local use only: the servers listen
// on loopback and the file holds the stack's admin credentials.
//
// The seed subcommand prepares a credential's first rotation on a running
// stack: it creates a MongoDB user with a random password and writes that
// password as the first version of a Key Vault secret, in the format the
// primary segura_keyvault_sync reads (localstack.Config.Seed):
//
//	go run ./internal/devstack seed --dir DIR --user NAME --secret NAME \
//	    [--auth-db admin] [--vault NAME] [--format password|json|connection_string] [--tls] \
//	    [--parent NAME --parent-secret NAME [--parent-auth-db admin]] [--reset]
//
// It never prints a password. Run again, it changes nothing.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/segura-community/terraform-provider-segura/internal/localstack"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "seed" {
		os.Exit(seedMain(os.Args[2:], os.Stdout, os.Stderr))
	}
	dir := flag.String("dir", "", "directory for the stack's data, certificates and devstack.json (required)")
	vaults := flag.String("vaults", "segura-dev,segura-dev-2", "comma-separated names of the emulated vaults to create")
	mongoTLS := flag.Bool("mongodb-tls", true, "also start FerretDB's TLS listener")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "devstack: --dir is required, e.g. go run ./internal/devstack --dir .devstack (or: go run ./internal/devstack seed -h)")
		os.Exit(2)
	}
	if err := run(*dir, strings.Split(*vaults, ","), *mongoTLS); err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(1)
	}
}

func run(dir string, vaults []string, mongoTLS bool) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	// Stop on the first signal; a start-up still building FerretDB is cancelled too.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fmt.Fprintf(os.Stderr, "devstack: starting FerretDB and the Key Vault emulator in %s (the first run builds FerretDB, about a minute)\n", dir)
	st, err := localstack.Start(ctx, localstack.Options{Dir: dir, Vaults: vaults, MongoDBTLS: mongoTLS})
	if err != nil {
		return err
	}
	configPath := filepath.Join(dir, localstack.ConfigFile)
	if err := st.WriteConfig(configPath); err != nil {
		_ = st.Stop()
		return fmt.Errorf("write %s: %w", configPath, err)
	}
	fmt.Fprintf(os.Stderr, "devstack: ready\n  MongoDB   %s\n  Key Vault %s\n  config    %s (holds credentials)\n"+
		"  seed a user and its secret: go run ./internal/devstack seed --dir %s --user NAME --secret NAME\n  stop with Ctrl-C or SIGTERM\n",
		st.Config.MongoDBURI, st.Config.VaultURL, configPath, dir)

	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "devstack: stopping")
	_ = os.Remove(configPath)
	if err := st.Stop(); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "devstack: stopped")
	return nil
}
