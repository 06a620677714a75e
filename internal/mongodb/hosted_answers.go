package mongodb

import "fmt"

// Server codes with which hosted services refuse what the provider needs
// (see internal/mongosim's doc for the sources of each answer).
const (
	codeCommandNotFound      = 59
	codeCommandNotSupported  = 115
	codeMechanismUnavailable = 334
	// codeAtlasError is what the proxy of MongoDB Atlas shared (M0, Flex)
	// clusters answers to a command it does not allow.
	codeAtlasError = 8000
)

// HostedServiceByAnswer recognises a hosted service by the way the server
// refused a command, for deployments whose host names say nothing (a
// private endpoint, an IP address): AtlasError (8000) is MongoDB Atlas;
// CommandNotSupported (115) or CommandNotFound (59) to a user-management
// command is a service without them, as Azure Cosmos DB for MongoDB (RU);
// MechanismUnavailable (334) for SCRAM-SHA-256 is Amazon DocumentDB before
// engine 5.0.1 (or a server with SCRAM-SHA-256 turned off).
func HostedServiceByAnswer(err error) (Service, bool) {
	code, _, ok := ServerCode(err)
	if !ok {
		return Service{}, false
	}
	switch code {
	case codeAtlasError:
		return serviceBySuffix(".mongodb.net"), true
	case codeCommandNotSupported, codeCommandNotFound:
		return serviceBySuffix(".mongo.cosmos.azure.com"), true
	case codeMechanismUnavailable:
		return serviceBySuffix(".docdb.amazonaws.com"), true
	}
	return Service{}, false
}

func serviceBySuffix(suffix string) Service {
	for _, h := range hostedServices {
		if h.suffix == suffix {
			return h.svc
		}
	}
	return Service{Name: suffix}
}

// Advice says, in a sentence or two, what the service allows and what to
// use instead.
func (s Service) Advice() string {
	if s.Rotatable {
		return fmt.Sprintf("This looks like %s, where the provider can rotate passwords %s. Fix the configuration accordingly (see the MongoDB setup guide), then apply again.", s.Name, s.Condition)
	}
	return fmt.Sprintf("This looks like %s, where the provider cannot rotate passwords: %s. Use %s instead (see the MongoDB setup guide).", s.Name, s.Reason, s.Instead)
}
