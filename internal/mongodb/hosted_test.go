package mongodb

import (
	"strings"
	"testing"
)

func TestHostedService(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		hosts     []string
		srv       string
		want      string // service name; "" for none
		rotatable bool
		host      string
	}{
		{"Atlas SRV", nil, "cluster0.ab1cd.mongodb.net", "MongoDB Atlas", false, "cluster0.ab1cd.mongodb.net"},
		{"Atlas seed list", []string{"cluster0-shard-00-00.ab1cd.mongodb.net:27017", "cluster0-shard-00-01.ab1cd.mongodb.net:27017"}, "", "MongoDB Atlas", false, "cluster0-shard-00-00.ab1cd.mongodb.net:27017"},
		{"Atlas, upper case and trailing dot", nil, "Cluster0.AB1CD.MongoDB.NET.", "MongoDB Atlas", false, "Cluster0.AB1CD.MongoDB.NET."},
		{"Atlas private endpoint", []string{"pl-0-westeurope.ab1cd.mongodb.net:1024"}, "", "MongoDB Atlas", false, "pl-0-westeurope.ab1cd.mongodb.net:1024"},
		{"Cosmos DB RU", []string{"orders.mongo.cosmos.azure.com:10255"}, "", "Azure Cosmos DB for MongoDB (RU)", false, "orders.mongo.cosmos.azure.com:10255"},
		{"Cosmos DB vCore", nil, "orders.global.mongocluster.cosmos.azure.com", "Azure DocumentDB (Azure Cosmos DB for MongoDB vCore)", true, "orders.global.mongocluster.cosmos.azure.com"},
		{"vCore is not RU", []string{"c-orders.12ab.mongocluster.cosmos.azure.com:10260"}, "", "Azure DocumentDB (Azure Cosmos DB for MongoDB vCore)", true, "c-orders.12ab.mongocluster.cosmos.azure.com:10260"},
		{"DocumentDB", []string{"orders.cluster-c1a2b3.eu-west-1.docdb.amazonaws.com:27017"}, "", "Amazon DocumentDB", true, "orders.cluster-c1a2b3.eu-west-1.docdb.amazonaws.com:27017"},
		{"DocumentDB, second host", []string{"10.0.0.5", "orders.cluster-ro-c1a2b3.eu-west-1.docdb.amazonaws.com"}, "", "Amazon DocumentDB", true, "orders.cluster-ro-c1a2b3.eu-west-1.docdb.amazonaws.com"},
		{"self-hosted", []string{"mongo-0.internal.example.com", "10.0.0.5:27018", "[::1]"}, "", "", false, ""},
		{"self-hosted SRV", nil, "rs.db.internal.example", "", false, ""},
		{"look-alike suffix", []string{"evilmongodb.net", "mongodb.net.example.com", "x.docdb.amazonaws.com.example"}, "", "", false, ""},
		{"bare suffix", []string{"mongodb.net", "mongo.cosmos.azure.com"}, "", "", false, ""},
		{"no hosts", nil, "", "", false, ""},
	}
	for _, c := range cases {
		svc, ok := HostedService(c.hosts, c.srv)
		if ok != (c.want != "") || svc.Name != c.want {
			t.Errorf("%s: HostedService = %q, %v; want %q", c.name, svc.Name, ok, c.want)
			continue
		}
		if !ok {
			continue
		}
		if svc.Rotatable != c.rotatable || svc.Host != c.host {
			t.Errorf("%s: rotatable %v host %q; want %v %q", c.name, svc.Rotatable, svc.Host, c.rotatable, c.host)
		}
		if len(svc.Docs) == 0 {
			t.Errorf("%s: no vendor documentation cited", c.name)
		}
		for _, d := range svc.Docs {
			if !strings.HasPrefix(d, "https://") {
				t.Errorf("%s: doc %q is not a URL", c.name, d)
			}
		}
		if svc.Rotatable && (svc.Condition == "" || svc.Instead != "") {
			t.Errorf("%s: a rotatable service states its condition and no alternative: %+v", c.name, svc)
		}
		if !svc.Rotatable && (svc.Reason == "" || svc.Instead == "") {
			t.Errorf("%s: a service the provider cannot rotate says why and what to use instead: %+v", c.name, svc)
		}
	}
}

// TestHostedServiceAlternatives: what the messages tell users to use
// instead, and the conditions, name the vendors' documented APIs.
func TestHostedServiceAlternatives(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		srv  string
		want []string
	}{
		{"c.ab1cd.mongodb.net", []string{"Atlas Administration API", "databaseUsers", "atlas dbusers update", "mongodbatlas_database_user"}},
		{"a.mongo.cosmos.azure.com", []string{"az cosmosdb keys regenerate", "az cosmosdb mongodb user definition update"}},
		{"a.mongocluster.cosmos.azure.com", []string{"built-in administrator", "SCRAM-SHA-256"}},
		{"a.cluster-x.us-east-1.docdb.amazonaws.com", []string{"admin database", "5.0.1", "SCRAM-SHA-1", "primary user"}},
	} {
		svc, _ := HostedService(nil, c.srv)
		text := svc.Instead + " " + svc.Condition
		for _, w := range c.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s (%s): %q does not mention %q", c.srv, svc.Name, text, w)
			}
		}
	}
}
