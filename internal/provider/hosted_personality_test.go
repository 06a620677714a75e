package provider

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/segura-community/terraform-provider-segura/internal/mongosim"
)

// The provider on hosted services, simulated by mongosim's personalities
// (each answer taken from the vendor's documentation: see that package's
// doc). Reached by IP address, the service cannot be recognised by its host
// name at plan time, so what it answers must name it at apply.

// testAccHostedSet starts a one-member set with the given personality for
// one test.
func testAccHostedSet(t *testing.T, p mongosim.Personality, engine string) *mongosim.Sim {
	t.Helper()
	testAccStack(t)
	cfg := testAccConfig()
	sim, err := mongosim.Start(context.Background(), mongosim.Options{Dir: t.TempDir(), Members: 1, Personality: p, EngineVersion: engine,
		AdminUsername: cfg.MongoDBAdminUsername, AdminPassword: cfg.MongoDBAdminPassword})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Stop() })
	return sim
}

// The services where the provider cannot rotate refuse updateUser; the
// apply says which service it is, that nothing changed, and what to use.
func TestAccHostedServicesThatCannotRotateAreNamed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		personality mongosim.Personality
		service     string
		instead     string
	}{
		{mongosim.PersonalityAtlasShared, "MongoDB Atlas", "Atlas Administration API"},
		{mongosim.PersonalityCosmosRU, "Azure Cosmos DB for MongoDB (RU)", "az cosmosdb"},
	} {
		t.Run(string(tc.personality), func(t *testing.T) {
			t.Parallel()
			sim := testAccHostedSet(t, tc.personality, "")
			c := newSimChain(sim, "host", false)
			original := "Original-Passw0rd-" + c.name
			testAccRecordSecret(original)
			// The service's own tooling created the user.
			testAccMongoRunDirect(t, sim, bson.D{{Key: "createUser", Value: c.username}, {Key: "pwd", Value: original}, {Key: "roles", Value: bson.A{}}})
			testAccPutSecret(t, c.secrets[0].vaultURL(), c.secrets[0].name, original)
			t.Cleanup(func() { testAccDeleteSecret(t, c.secrets[0].vaultURL(), c.secrets[0].name+escrowSuffix, true) })
			ws := newCLIWorkspace(t)
			ws.Write(c.hcl())
			out, err := ws.Run("apply", "-auto-approve", "-input=false")
			flat := collapse(out)
			if err == nil {
				t.Fatalf("the apply succeeded on %s:\n%s", tc.service, ftail(out, 3000))
			}
			for _, want := range []string{"This looks like " + tc.service + ", where the provider cannot rotate passwords", tc.instead, "applications keep the previous password"} {
				if !strings.Contains(flat, want) {
					t.Errorf("the error does not say %q:\n%s", want, ftail(flat, 3000))
				}
			}
			if err := testAccMongoLogin(sim.URI(), c.username, original); err != nil {
				t.Errorf("the password of before no longer logs in: %v", err)
			}
		})
	}
}

// Amazon DocumentDB before engine 5.0.1 (no SCRAM-SHA-256), rotated as the
// vendor says it can be: users in admin, SCRAM-SHA-1, through a parent that
// is the cluster's primary user.
func TestAccAmazonDocumentDBWithItsPrimaryUserAsParent(t *testing.T) {
	t.Parallel()
	sim := testAccHostedSet(t, mongosim.PersonalityDocumentDB, "5.0.0")
	c := newSimChain(sim, "docdb", true)
	original := "Original-Passw0rd-" + c.name
	testAccRecordSecret(original)
	testAccRecordSecret(original + "-admin")
	c.arrange(t, sim.URI(), original)
	hcl := strings.Replace(c.hcl(), "parent = segura_credential.admin", "parent = segura_credential.admin\n  mechanism = \"SCRAM-SHA-1\"", 1)
	hcl = strings.Replace(hcl, fmt.Sprintf("username = %q\n}", c.parentUser()), fmt.Sprintf("username = %q\n  mechanism = \"SCRAM-SHA-1\"\n}", c.parentUser()), 1)
	ws := newCLIWorkspace(t)
	ws.Write(hcl)
	ws.MustRun("apply", "-auto-approve", "-input=false")
	if err := c.checkConverged(t, sim.URI(), &original)(nil); err != nil {
		t.Fatal(err)
	}
	out, err := ws.Run("plan", "-input=false", "-detailed-exitcode")
	if code := exitCode(err); code != 0 {
		t.Fatalf("the plan after the rotation exits %d:\n%s", code, ftail(out, 3000))
	}
}

// testAccMongoRunDirect runs an admin command on the simulated deployment's
// first member's FerretDB, past the personality, as the service's own
// tooling (its control plane) would.
func testAccMongoRunDirect(t *testing.T, sim *mongosim.Sim, cmd bson.D) {
	t.Helper()
	testAccMongoRun(t, sim.Member(sim.Hosts()[0]).FerretDB().URI(), cmd)
}
