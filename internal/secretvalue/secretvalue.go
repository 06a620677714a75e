// Package secretvalue renders a MongoDB account's password into the value a
// Key Vault secret holds, in one of the formats applications consume, and
// parses the password back out of such a value. Errors never quote the
// value: it holds a password.
package secretvalue

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"

	"github.com/segura-community/terraform-provider-segura/internal/mongodb"
)

// Format is how a secret's value is laid out.
type Format string

const (
	// Password is the bare password.
	Password Format = "password"
	// ConnectionString is a mongodb:// URI (mongodb+srv:// for an SRV seed
	// list) with the credentials percent-encoded, the auth source, the
	// deployment's replica set and TLS setting, and the device's options.
	ConnectionString Format = "connection_string"
	// JSON is an object with username, password, hosts, host, port,
	// auth_database, and replica_set / tls / srv_host / options when set.
	// For an SRV seed list hosts is empty, host "" and port 0: connect
	// to mongodb+srv://<srv_host>.
	JSON Format = "json"
)

// Formats lists every format, for schema validators and documentation.
var Formats = []Format{Password, ConnectionString, JSON}

// DefaultContentType is the Key Vault content type written for each format
// when the binding names none.
func DefaultContentType(f Format) string {
	switch f {
	case ConnectionString:
		return "application/x-mongodb-connection-string"
	case JSON:
		return "application/json"
	default:
		return "text/plain"
	}
}

// Account is what the rendered value says about where and who: everything
// but the password.
type Account struct {
	Deployment mongodb.Deployment
	Username   string
	// AuthSource is the authentication database; mongodb.DefaultAuthSource when empty.
	AuthSource string
}

func (a Account) authSource() string {
	if a.AuthSource == "" {
		return mongodb.DefaultAuthSource
	}
	return a.AuthSource
}

// jsonValue is the json format's document.
type jsonValue struct {
	Username     string            `json:"username"`
	Password     string            `json:"password"`
	Hosts        []string          `json:"hosts"`
	Host         string            `json:"host"`
	Port         int               `json:"port"`
	AuthDatabase string            `json:"auth_database"`
	ReplicaSet   string            `json:"replica_set,omitempty"`
	TLS          bool              `json:"tls,omitempty"`
	SRVHost      string            `json:"srv_host,omitempty"`
	Options      map[string]string `json:"options,omitempty"`
}

// Render lays out password for account in format f.
func Render(f Format, a Account, password string) (string, error) {
	switch f {
	case Password:
		return password, nil
	case ConnectionString:
		return connectionString(a, password), nil
	case JSON:
		hosts := normalizedHosts(a.Deployment)
		host, port := "", mongodb.DefaultPort
		if a.Deployment.IsSRV() {
			port = 0
		}
		if len(hosts) > 0 {
			h, p, err := net.SplitHostPort(hosts[0])
			if err != nil {
				return "", fmt.Errorf("render json value: host %q: %w", hosts[0], err)
			}
			host = h
			port, _ = strconv.Atoi(p)
		}
		data, err := json.Marshal(jsonValue{
			Username: a.Username, Password: password, Hosts: hosts, Host: host, Port: port,
			AuthDatabase: a.authSource(), ReplicaSet: a.Deployment.ReplicaSet, TLS: a.Deployment.TLS,
			SRVHost: a.Deployment.SRVHost, Options: a.Deployment.Options,
		})
		if err != nil {
			return "", errors.New("render json value: encoding failed")
		}
		return string(data), nil
	default:
		return "", fmt.Errorf("unknown value format %q (want one of %s)", f, formatList())
	}
}

// Parse returns the password held in value, laid out in format f.
func Parse(f Format, value string) (string, error) {
	switch f {
	case Password:
		if value == "" {
			return "", errors.New("the secret's value is empty (format password)")
		}
		return value, nil
	case ConnectionString:
		cs, err := connstring.Parse(withoutSRVLookup(value))
		if err != nil {
			// The driver's message can quote the URI; do not pass it on.
			return "", errors.New("the secret's value is not a valid MongoDB connection string (format connection_string)")
		}
		if !cs.PasswordSet || cs.Password == "" {
			return "", errors.New("the secret's connection string carries no password (format connection_string)")
		}
		return cs.Password, nil
	case JSON:
		var v jsonValue
		if err := json.Unmarshal([]byte(value), &v); err != nil {
			return "", errors.New("the secret's value is not a JSON object (format json)")
		}
		if v.Password == "" {
			return "", errors.New(`the secret's JSON value has no "password" field (format json)`)
		}
		return v.Password, nil
	default:
		return "", fmt.Errorf("unknown value format %q (want one of %s)", f, formatList())
	}
}

// connectionString builds the URI by hand rather than with net/url: the
// MongoDB connection string spec wants every reserved character in the
// credentials percent-encoded, while url.UserPassword leaves sub-delimiters
// such as '$' and '+' as they are. The rest (seed list or mongodb+srv://
// name, authSource, replicaSet, tls and the device's options) is the
// deployment's ApplicationURI.
func connectionString(a Account, password string) string {
	return a.Deployment.ApplicationURI(mongodb.PercentEncode(a.Username)+":"+mongodb.PercentEncode(password)+"@", a.authSource())
}

// withoutSRVLookup turns a mongodb+srv:// URI into a mongodb:// one with the
// same credentials and name, and no options, so that reading the password
// back does not query DNS (the driver's parser resolves SRV and TXT records
// of a mongodb+srv:// URI) and cannot fail where DNS does not answer.
func withoutSRVLookup(value string) string {
	const srv = "mongodb+srv://"
	if !strings.HasPrefix(value, srv) {
		return value
	}
	rest := value[len(srv):]
	// The host follows the userinfo's last '@' (credentials are
	// percent-encoded, so an '@' in them is too).
	from := strings.LastIndex(rest, "@") + 1
	if i := strings.IndexAny(rest[from:], "/?"); i >= 0 {
		rest = rest[:from+i]
	}
	return "mongodb://" + rest + "/"
}

func normalizedHosts(d mongodb.Deployment) []string {
	out := make([]string, 0, len(d.Hosts))
	for _, h := range d.Hosts {
		out = append(out, mongodb.NormalizeHost(h, mongodb.DefaultPort))
	}
	return out
}

func formatList() string {
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}
