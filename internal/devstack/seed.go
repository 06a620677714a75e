package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/segura-community/terraform-provider-segura/internal/localstack"
	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

const seedUsage = `Usage: go run ./internal/devstack seed --dir DIR --user NAME --secret NAME [flags]

Prepares a credential's first rotation on the running local stack of DIR
(its devstack.json): creates the MongoDB user with a random password and
writes that password as the first version of the Key Vault secret, in the
format of the segura_keyvault_sync that binds it. With --parent it first does
the same for the parent (administrator) credential. No password is printed.

Run again, it changes nothing. An existing user whose password the secret
does not hold is left alone unless --reset gives it a new random password
(the secret is written first, then MongoDB). FerretDB grants no roles.

Flags:
`

// seedMain runs the seed subcommand and returns the exit code.
func seedMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("devstack seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, seedUsage)
		fs.PrintDefaults()
	}
	dir := fs.String("dir", ".devstack", "directory of the running local stack (holds devstack.json)")
	user := fs.String("user", "", "MongoDB user to create, e.g. orders_app (required)")
	authDB := fs.String("auth-db", "admin", "database the user is defined in (segura_credential's auth_database)")
	vault := fs.String("vault", "", "emulated vault to write the secret to (default: the stack's first, vault_url)")
	secret := fs.String("secret", "", "Key Vault secret that receives the password, e.g. orders-db-password (required)")
	format := fs.String("format", string(secretvalue.Password), "the secret's value format (segura_keyvault_sync's value_format): "+formatNames())
	useTLS := fs.Bool("tls", false, "render connection_string and json values for the TLS listener (mongodb_tls_uri)")
	parent := fs.String("parent", "", "also seed this administrator user, which changes --user's password (segura_credential's parent)")
	parentAuthDB := fs.String("parent-auth-db", "admin", "database the parent is defined in")
	parentSecret := fs.String("parent-secret", "", "Key Vault secret for the parent's password, format password (required with --parent)")
	reset := fs.Bool("reset", false, "give an existing user whose password the secret does not hold a new random password")
	replicaSet := fs.Bool("replica-set", false, "seed the simulated replica set (devstack --replica-set; mongodb_replica_set_uri) instead of the standalone server")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usageError := func(msg string) int {
		fmt.Fprintf(stderr, "devstack seed: %s\n\n", msg)
		fs.Usage()
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return usageError(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	case *user == "" || *secret == "":
		return usageError("--user and --secret are required")
	case !isFormat(*format):
		return usageError(fmt.Sprintf("--format %q: want one of %s", *format, formatNames()))
	case (*parent == "") != (*parentSecret == ""):
		return usageError("--parent and --parent-secret go together")
	case *parentSecret != "" && *parentSecret == *secret:
		return usageError("--parent-secret must differ from --secret: each account has a secret of its own")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := runningStack(*dir)
	if err != nil {
		fmt.Fprintln(stderr, "devstack seed:", err)
		return 1
	}
	pool, err := cfg.KeyVaultPool(policy.RetryOptions{MaxRetries: 3})
	if err != nil {
		fmt.Fprintln(stderr, "devstack seed: the Key Vault client:", err)
		return 1
	}
	var seeds []localstack.Seed
	if *parent != "" {
		seeds = append(seeds, localstack.Seed{Username: *parent, AuthDatabase: *parentAuthDB, Vault: *vault, Secret: *parentSecret,
			Format: secretvalue.Password, TLS: *useTLS, Reset: *reset, ReplicaSet: *replicaSet})
	}
	seeds = append(seeds, localstack.Seed{Username: *user, AuthDatabase: *authDB, Vault: *vault, Secret: *secret,
		Format: secretvalue.Format(*format), TLS: *useTLS, Reset: *reset, ReplicaSet: *replicaSet})
	for _, s := range seeds {
		res, err := cfg.Seed(ctx, pool, s)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "seed: ") {
				msg = "seed: " + msg
			}
			fmt.Fprintln(stderr, "devstack "+msg+hint(err, s))
			return 1
		}
		fmt.Fprintln(stdout, describe(res, s))
	}
	return 0
}

// runningStack reads dir's devstack.json and checks that the stack answers.
func runningStack(dir string) (localstack.Config, error) {
	path := filepath.Join(dir, localstack.ConfigFile)
	cfg, err := localstack.ReadConfig(path)
	if errors.Is(err, os.ErrNotExist) {
		return cfg, fmt.Errorf("no running local stack: %s does not exist; start one with go run ./internal/devstack --dir %s (or make devstack, or make demo)", path, dir)
	}
	if err != nil {
		return cfg, err
	}
	if err := cfg.Answers(); err != nil {
		return cfg, fmt.Errorf("the local stack of %s is not running (%v); start it again with go run ./internal/devstack --dir %s", path, err, dir)
	}
	return cfg, nil
}

func describe(r localstack.SeedResult, s localstack.Seed) string {
	secret := fmt.Sprintf("secret %s in vault %s (format %s, version %s)", s.Secret, r.Vault, r.Format, r.Version)
	switch r.Outcome {
	case localstack.SeedCreated:
		return fmt.Sprintf("seed: created MongoDB user %s with a random password, written to %s", r.Account, secret)
	case localstack.SeedCreatedFromSecret:
		return fmt.Sprintf("seed: created MongoDB user %s with the password already in %s", r.Account, secret)
	case localstack.SeedReset:
		return fmt.Sprintf("seed: gave MongoDB user %s a new random password, written to %s", r.Account, secret)
	default:
		return fmt.Sprintf("seed: MongoDB user %s and %s exist and agree; nothing changed", r.Account, secret)
	}
}

// hint is what to do after one of Seed's refusals.
func hint(err error, s localstack.Seed) string {
	switch {
	case errors.Is(err, localstack.ErrUserWithoutSecret):
		return ". Nothing was changed. --reset gives the user a new random password and writes it to the secret."
	case errors.Is(err, localstack.ErrSecretFormat):
		return ". Nothing was changed. Pass the format the secret holds with --format, or --reset to write a new random password in this one."
	case errors.Is(err, localstack.ErrSecretRefused):
		return fmt.Sprintf(". Nothing was changed. If the secret holds another format than %s, pass it with --format; "+
			"--reset gives the user a new random password and writes it as a new version.", s.Format)
	}
	return ""
}

func isFormat(f string) bool {
	for _, known := range secretvalue.Formats {
		if f == string(known) {
			return true
		}
	}
	return false
}

func formatNames() string {
	names := make([]string, len(secretvalue.Formats))
	for i, f := range secretvalue.Formats {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}
