// Command devstack runs the local stack — FerretDB and the Key Vault
// emulator — until interrupted, for the quickstart and for poking at the
// provider by hand:
//
//	go run ./internal/devstack --dir DIR [--replica-set]
//
// Once both servers answer it writes DIR/devstack.json (see
// localstack.Config for its fields). SIGINT or SIGTERM stop both servers
// cleanly and remove devstack.json. For local use only: the servers listen
// on loopback and the file holds the stack's admin credentials.
//
// With --replica-set it also starts a simulated three-member replica set
// (package mongosim: one FerretDB per member behind a wire-protocol proxy,
// with the standalone's admin credentials) and adds its URI, its name and
// the simulator's admin endpoint (faults, lag, step-down) to devstack.json
// as mongodb_replica_set_uri, mongodb_replica_set_name and
// mongodb_sim_admin_url. The standalone FerretDB stays where it was.
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
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/segura-community/terraform-provider-segura/internal/localstack"
	"github.com/segura-community/terraform-provider-segura/internal/mongosim"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "seed" {
		os.Exit(seedMain(os.Args[2:], os.Stdout, os.Stderr))
	}
	dir := flag.String("dir", "", "directory for the stack's data, certificates and devstack.json (required)")
	vaults := flag.String("vaults", "segura-dev,segura-dev-2", "comma-separated names of the emulated vaults to create")
	mongoTLS := flag.Bool("mongodb-tls", true, "also start FerretDB's TLS listener")
	replicaSet := flag.Bool("replica-set", false, "also start a simulated 3-member replica set (package mongosim)")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "devstack: --dir is required, e.g. go run ./internal/devstack --dir .devstack (or: go run ./internal/devstack seed -h)")
		os.Exit(2)
	}
	if err := run(*dir, strings.Split(*vaults, ","), *mongoTLS, *replicaSet); err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(1)
	}
}

func run(dir string, vaults []string, mongoTLS, replicaSet bool) error {
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
	var sim *mongosim.Sim
	if replicaSet {
		fmt.Fprintln(os.Stderr, "devstack: starting the simulated replica set")
		sim, err = mongosim.Start(ctx, mongosim.Options{
			Dir:           filepath.Join(dir, "mongosim"),
			AdminUsername: st.Config.MongoDBAdminUsername,
			AdminPassword: st.Config.MongoDBAdminPassword,
		})
		if err != nil {
			_ = st.Stop()
			return fmt.Errorf("start the simulated replica set: %w", err)
		}
		st.Config.MongoDBReplicaSetURI = sim.URI()
		st.Config.MongoDBReplicaSetName = sim.SetName()
		st.Config.MongoDBSimAdminURL = sim.AdminURL()
	}
	stopAll := func() error {
		var errs []error
		if sim != nil {
			errs = append(errs, sim.Stop())
		}
		return errors.Join(append(errs, st.Stop())...)
	}
	configPath := filepath.Join(dir, localstack.ConfigFile)
	if err := st.WriteConfig(configPath); err != nil {
		_ = stopAll()
		return fmt.Errorf("write %s: %w", configPath, err)
	}
	fmt.Fprintf(os.Stderr, "devstack: ready\n  MongoDB   %s\n  Key Vault %s\n  config    %s (holds credentials)\n",
		st.Config.MongoDBURI, st.Config.VaultURL, configPath)
	if sim != nil {
		fmt.Fprintf(os.Stderr, "  replica set %s (simulator admin %s)\n", st.Config.MongoDBReplicaSetURI, st.Config.MongoDBSimAdminURL)
	}
	fmt.Fprintf(os.Stderr, "  seed a user and its secret: go run ./internal/devstack seed --dir %s --user NAME --secret NAME\n  stop with Ctrl-C or SIGTERM\n", dir)

	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "devstack: stopping")
	_ = os.Remove(configPath)
	if err := stopAll(); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "devstack: stopped")
	return nil
}
