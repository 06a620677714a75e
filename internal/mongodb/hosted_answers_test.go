package mongodb

import (
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

func TestHostedServiceByAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code int32
		want string // "" when no service is recognised
	}{
		{8000, "MongoDB Atlas"},
		{115, "Azure Cosmos DB for MongoDB (RU)"},
		{59, "Azure Cosmos DB for MongoDB (RU)"},
		{334, "Amazon DocumentDB"},
		{13, ""},
		{2, ""},
	}
	for _, tt := range tests {
		svc, ok := HostedServiceByAnswer(mongo.CommandError{Code: tt.code})
		if got := map[bool]string{true: svc.Name}[ok]; got != tt.want {
			t.Errorf("code %d: %q, want %q", tt.code, got, tt.want)
		}
		if ok && !strings.Contains(svc.Advice(), svc.Name) {
			t.Errorf("code %d: the advice does not name the service: %s", tt.code, svc.Advice())
		}
	}
}
