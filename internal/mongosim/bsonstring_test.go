package mongosim

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// TestServerString: documents print as the server's BSONObj::toString does
// in error messages, and the password is redacted as snipForLogging does.
func TestServerString(t *testing.T) {
	t.Parallel()
	uuid := bson.Binary{Subtype: 4, Data: []byte{0x9b, 0xf1, 0xda, 0xe1, 0x92, 0xf7, 0x4b, 0xfc, 0x90, 0xd3, 0x89, 0xab, 0x18, 0xaf, 0x75, 0xb8}}
	oid, _ := bson.ObjectIDFromHex("7fffffff0000000000000001")
	doc, err := bson.Marshal(bson.D{
		{Key: "updateUser", Value: "app"}, {Key: "pwd", Value: "S3cret!"},
		{Key: "mechanisms", Value: bson.A{"SCRAM-SHA-256"}}, {Key: "roles", Value: bson.A{}},
		{Key: "writeConcern", Value: bson.D{{Key: "w", Value: "majority"}, {Key: "wtimeout", Value: 600000.0}}},
		{Key: "lsid", Value: bson.D{{Key: "id", Value: uuid}}},
		{Key: "n", Value: int32(1)}, {Key: "l", Value: int64(2)}, {Key: "d", Value: 0.5}, {Key: "big", Value: 1e21},
		{Key: "b", Value: true}, {Key: "z", Value: nil}, {Key: "o", Value: oid},
		{Key: "bin", Value: bson.Binary{Subtype: 0, Data: []byte{1, 0xab}}},
		{Key: "ts", Value: bson.Timestamp{T: 1700000000, I: 3}}, {Key: "e", Value: bson.D{}},
		{Key: "$db", Value: "admin"},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := serverString(redactedCommand(bsoncore.Document(doc)))
	want := `{ updateUser: "app", pwd: "xxx", mechanisms: [ "SCRAM-SHA-256" ], roles: [], ` +
		`writeConcern: { w: "majority", wtimeout: 600000.0 }, lsid: { id: UUID("9bf1dae1-92f7-4bfc-90d3-89ab18af75b8") }, ` +
		`n: 1, l: 2, d: 0.5, big: 1e+21.0, b: true, z: null, o: ObjectId('7fffffff0000000000000001'), ` +
		`bin: BinData(0, 01AB), ts: Timestamp(1700000000, 3), e: {}, $db: "admin" }`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
