package mongosim

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func wantCommandError(t *testing.T, err error, code int32, name, msgPrefix string) {
	t.Helper()
	var ce mongo.CommandError
	if !errors.As(err, &ce) {
		t.Fatalf("want error %d %s, got %v", code, name, err)
	}
	if ce.Code != code || ce.Name != name || !strings.HasPrefix(ce.Message, msgPrefix) {
		t.Errorf("got %d %s %q; want %d %s %q...", ce.Code, ce.Name, ce.Message, code, name, msgPrefix)
	}
}

// TestPersonalities: each hosted service answers user management as its
// vendor documents (see doc.go for the sources).
func TestPersonalities(t *testing.T) {
	t.Parallel()
	newUser := bson.D{{Key: "createUser", Value: "app"}, {Key: "pwd", Value: "App-Passw0rd-1"}, {Key: "roles", Value: bson.A{}}}
	update := bson.D{{Key: "updateUser", Value: "app"}, {Key: "pwd", Value: "App-Passw0rd-2"}}

	t.Run("atlas dedicated: user management fails authorization", func(t *testing.T) {
		t.Parallel()
		s := startSim(t, Options{Standalone: true, Personality: PersonalityAtlas})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin := adminClient(t, s)
		_, err := run(ctx, admin, "admin", newUser)
		wantCommandError(t, err, 13, "Unauthorized", `not authorized on admin to execute command { createUser: "app", pwd: "xxx", roles: [], `)
		_, err = run(ctx, admin, "admin", bson.D{{Key: "updateUser", Value: s.AdminUsername()}, {Key: "pwd", Value: "Own-Passw0rd-9"}})
		wantCommandError(t, err, 13, "Unauthorized", `not authorized on admin to execute command { updateUser: "`+s.AdminUsername()+`", pwd: "xxx"`)
	})

	t.Run("atlas shared: the proxy refuses with AtlasError", func(t *testing.T) {
		t.Parallel()
		s := startSim(t, Options{Standalone: true, Personality: PersonalityAtlasShared})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := run(ctx, adminClient(t, s), "admin", update)
		wantCommandError(t, err, 8000, "AtlasError", "updateUser is not allowed or the syntax is incorrect, see the Atlas documentation for more information.")
	})

	t.Run("cosmos RU: no user-management commands", func(t *testing.T) {
		t.Parallel()
		s := startSim(t, Options{Standalone: true, Personality: PersonalityCosmosRU})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin := adminClient(t, s)
		_, err := run(ctx, admin, "admin", newUser)
		wantCommandError(t, err, 115, "CommandNotSupported", "Command createUser not supported.")
		_, err = run(ctx, admin, "admin", bson.D{{Key: "usersInfo", Value: "app"}})
		wantCommandError(t, err, 115, "CommandNotSupported", "Command usersInfo not supported.")
		_, err = run(ctx, admin, "admin", bson.D{{Key: "connectionStatus", Value: 1}})
		wantCommandError(t, err, 115, "CommandNotSupported", "Command connectionStatus not supported.")
	})

	t.Run("cosmos vCore: only the built-in administrator manages users", func(t *testing.T) {
		t.Parallel()
		s := startSim(t, Options{Standalone: true, Personality: PersonalityCosmosVCore})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin := adminClient(t, s)
		if _, err := run(ctx, admin, "admin", newUser); err != nil {
			t.Fatalf("the built-in administrator creates a user: %v", err)
		}
		app := connect(t, s.URI(), "app", "App-Passw0rd-1")
		_, err := run(ctx, app, "admin", update)
		wantCommandError(t, err, 13, "Unauthorized", `not authorized on admin to execute command { updateUser: "app"`)
		if _, err := run(ctx, admin, "admin", update); err != nil {
			t.Errorf("the built-in administrator changes a password: %v", err)
		}
	})

	t.Run("documentdb 5.0.0: users in admin, no SCRAM-SHA-256", func(t *testing.T) {
		t.Parallel()
		s := startSim(t, Options{Standalone: true, Personality: PersonalityDocumentDB, EngineVersion: "5.0.0"})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin := adminClient(t, s)
		_, err := run(ctx, admin, "orders", bson.D{{Key: "createUser", Value: "sha256"}, {Key: "pwd", Value: "Sha-Passw0rd-1"},
			{Key: "roles", Value: bson.A{}}, {Key: "mechanisms", Value: bson.A{"SCRAM-SHA-256"}}})
		wantCommandError(t, err, 2, "BadValue", "SCRAM-SHA-256 not supported in authMechanisms")
		// Created "in orders", the user lives in admin.
		if _, err := run(ctx, admin, "orders", newUser); err != nil {
			t.Fatal(err)
		}
		var info struct {
			Users []struct {
				DB         string   `bson:"db"`
				Mechanisms []string `bson:"mechanisms"`
			} `bson:"users"`
		}
		if err := admin.Database("admin").RunCommand(ctx, bson.D{{Key: "usersInfo", Value: "app"}}).Decode(&info); err != nil {
			t.Fatal(err)
		}
		if len(info.Users) != 1 || info.Users[0].DB != "admin" || strings.Join(info.Users[0].Mechanisms, ",") != "SCRAM-SHA-1" {
			t.Errorf("usersInfo: %+v; want the user in admin with SCRAM-SHA-1 only", info.Users)
		}
		if err := login(s.URI(), "app", "App-Passw0rd-1"); err != nil {
			t.Errorf("default mechanism negotiation: %v", err)
		}
		c, err := mongo.Connect(options.Client().ApplyURI(s.URI()).SetServerSelectionTimeout(5 * time.Second).
			SetAuth(options.Credential{Username: "app", Password: "App-Passw0rd-1", AuthMechanism: "SCRAM-SHA-256"}))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Disconnect(context.Background()) //nolint:errcheck
		err = c.Ping(ctx, nil)
		if err == nil || !strings.Contains(err.Error(), "MechanismUnavailable") ||
			!strings.Contains(err.Error(), "Received authentication for mechanism SCRAM-SHA-256 which is unknown or not enabled") {
			t.Errorf("SCRAM-SHA-256 login: %v", err)
		}
	})

	t.Run("documentdb 5.0.1: SCRAM-SHA-256", func(t *testing.T) {
		t.Parallel()
		s := startSim(t, Options{Standalone: true, Personality: PersonalityDocumentDB, EngineVersion: "5.0.1"})
		admin := adminClient(t, s)
		createUser(t, admin, "app256", "Sha-Passw0rd-256")
		c := connect(t, s.URI(), "app256", "Sha-Passw0rd-256", func(o *options.ClientOptions) {
			o.Auth.AuthMechanism = "SCRAM-SHA-256"
		})
		if err := c.Ping(context.Background(), nil); err != nil {
			t.Errorf("SCRAM-SHA-256 on 5.0.1: %v", err)
		}
	})
}
