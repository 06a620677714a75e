package mongodb

import (
	"net"
	"strings"
)

// Service is a hosted MongoDB-compatible service recognised by the host
// names of a deployment, and what that means for rotating its passwords
// with updateUser over the wire protocol, as the vendors document it.
type Service struct {
	// Name is the service, e.g. "MongoDB Atlas".
	Name string
	// Host is the configured host (or SRV name) that matched.
	Host string
	// Rotatable reports whether the provider can rotate passwords there.
	Rotatable bool
	// Condition says what must hold for a rotation to work (Rotatable only).
	Condition string
	// Reason says why the provider cannot rotate there (not Rotatable).
	Reason string
	// Instead names the vendor API that changes the passwords instead (not
	// Rotatable).
	Instead string
	// Docs are the vendor documentation pages the above comes from.
	Docs []string
}

// hostedServices are matched by host name suffix, most specific first.
var hostedServices = []struct {
	suffix string
	svc    Service
}{
	{
		// MongoDB Atlas manages database users in its control plane: "Atlas
		// rolls back any user modifications not made through the UI or API.
		// You must use the Atlas UI or API to add, modify, or delete database
		// users" (Configure Database Users), and updateUser is among the
		// commands Atlas clusters do not support for database users.
		suffix: ".mongodb.net",
		svc: Service{
			Name: "MongoDB Atlas",
			Reason: "Atlas manages database users in its control plane and rolls back any user change not made through the Atlas UI or " +
				"Administration API, so a password changed with updateUser would be reverted after Key Vault already holds it",
			Instead: "the Atlas Administration API's \"Update One Database User in One Project\" " +
				"(PATCH /api/atlas/v2/groups/{groupId}/databaseUsers/{databaseName}/{username}; atlas dbusers update), " +
				"or the mongodbatlas_database_user resource with password_wo",
			Docs: []string{
				"https://www.mongodb.com/docs/atlas/security-add-mongodb-users/",
				"https://www.mongodb.com/docs/atlas/unsupported-commands/",
				"https://www.mongodb.com/docs/api/doc/atlas-admin-api-v2/operation/operation-updategroupdatabaseuser",
			},
		},
	},
	{
		// Azure DocumentDB (formerly Azure Cosmos DB for MongoDB vCore):
		// "When a cluster is created, a built-in administrative native user
		// account is automatically added ... To create other native users,
		// you must log in using this built-in administrative account", and
		// "The updateUser command supports only updating the password".
		// Native authentication is SCRAM-SHA-256.
		suffix: ".mongocluster.cosmos.azure.com",
		svc: Service{
			Name:      "Azure DocumentDB (Azure Cosmos DB for MongoDB vCore)",
			Rotatable: true,
			Condition: "only secondary native users, each with a parent credential that is the cluster's built-in administrator (the only user allowed to manage users), " +
				"with SCRAM-SHA-256; the built-in administrator's own password is the cluster resource's administrator password, " +
				"changed through Azure (Microsoft.DocumentDB/mongoClusters, e.g. Reset-AzDocumentDBMongoClusterPassword), not by a self-rotation",
			Docs: []string{
				"https://learn.microsoft.com/azure/cosmos-db/mongodb/vcore/secondary-users",
				"https://learn.microsoft.com/powershell/module/az.documentdb/reset-azdocumentdbmongoclusterpassword",
			},
		},
	},
	{
		// Azure Cosmos DB for MongoDB (RU): the account's keys are the
		// passwords, regenerated through the resource provider; with
		// role-based access control, "Users and roles reside within a
		// database and are managed using the Azure CLI, Azure PowerShell, or
		// Azure Resource Manager", not with MongoDB user commands.
		suffix: ".mongo.cosmos.azure.com",
		svc: Service{
			Name: "Azure Cosmos DB for MongoDB (RU)",
			Reason: "its passwords are the account's keys, and with role-based access control its users are Azure resources " +
				"(mongodbUserDefinitions) managed through Azure Resource Manager; updateUser over the wire protocol does not change them",
			Instead: "az cosmosdb keys regenerate (Database Accounts - Regenerate Key) for the account keys, or " +
				"az cosmosdb mongodb user definition update (Mongo DB Resources - Create Update Mongo User Definition) for role-based access control users",
			Docs: []string{
				"https://learn.microsoft.com/azure/cosmos-db/mongodb/how-to-setup-rbac",
				"https://learn.microsoft.com/cli/azure/cosmosdb/keys",
				"https://learn.microsoft.com/cli/azure/cosmosdb/mongodb/user/definition",
				"https://learn.microsoft.com/rest/api/cosmos-db-resource-provider/mongo-db-resources/create-update-mongo-user-definition",
			},
		},
	},
	{
		// Amazon DocumentDB: users are stored in and authenticate against
		// the admin database; the primary user (role root) creates the
		// others; "SCRAM-SHA-256 authentication is available in Amazon
		// DocumentDB instance-based cluster minor versions 5.0.1+ and 8.0.1+".
		suffix: ".docdb.amazonaws.com",
		svc: Service{
			Name:      "Amazon DocumentDB",
			Rotatable: true,
			Condition: "users live in the admin database only (auth_database = \"admin\"); rotate each credential with a parent credential that is the cluster's primary user " +
				"(role root); before engine 5.0.1 there is no SCRAM-SHA-256, so set mechanism = \"SCRAM-SHA-1\"; " +
				"the primary user's own password is the cluster's master password (aws docdb modify-db-cluster --master-user-password)",
			Docs: []string{
				"https://docs.aws.amazon.com/documentdb/latest/developerguide/security.managing-users.html",
				"https://docs.aws.amazon.com/documentdb/latest/developerguide/role_based_access_control.html",
				"https://docs.aws.amazon.com/documentdb/latest/devguide/scram-sha-256-auth.html",
			},
		},
	},
}

// HostedService recognises a hosted service by the host names of a
// deployment (its seed list, or the name of its mongodb+srv:// seed list):
// MongoDB Atlas (*.mongodb.net), Azure DocumentDB / Cosmos DB for MongoDB
// vCore (*.mongocluster.cosmos.azure.com), Azure Cosmos DB for MongoDB RU
// (*.mongo.cosmos.azure.com) and Amazon DocumentDB (*.docdb.amazonaws.com).
// It is pure: it looks at the names only, so a service reached through a
// private endpoint with another name, or an IP address, is not recognised.
func HostedService(hosts []string, srvHost string) (Service, bool) {
	names := hosts
	if srvHost != "" {
		names = append([]string{srvHost}, hosts...)
	}
	for _, h := range names {
		name := hostName(h)
		for _, hs := range hostedServices {
			if strings.HasSuffix(name, hs.suffix) && len(name) > len(hs.suffix) {
				svc := hs.svc
				svc.Host = h
				return svc, true
			}
		}
	}
	return Service{}, false
}

// hostName is the lower-case DNS name of "host", "host:port" or "host.".
func hostName(h string) string {
	h = strings.TrimSpace(h)
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	return strings.ToLower(strings.TrimSuffix(h, "."))
}
