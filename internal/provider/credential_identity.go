package provider

// A credential is known remotely by its account: a MongoDB user, its
// authentication database and the deployment's seed list, the triple the
// rotation engine writes into the segura-credential tag of every version
// (rotation.AccountTag: "user@authdb on host:port,..."). That is its identity
// (Terraform >= 1.12) and its import id, and what `terraform query` lists.

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/go-uuid"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/identityschema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/segura-community/terraform-provider-segura/internal/mongodb"
)

// credentialIdentityModel is a segura_credential's identity.
type credentialIdentityModel struct {
	DeviceAddress types.String `tfsdk:"device_address"`
	AuthDatabase  types.String `tfsdk:"auth_database"`
	Username      types.String `tfsdk:"username"`
}

func credentialIdentitySchema() identityschema.Schema {
	return identityschema.Schema{
		Attributes: map[string]identityschema.Attribute{
			"device_address": identityschema.StringAttribute{
				RequiredForImport: true,
				Description:       "The device's seed list as host:port, comma-separated (`db1.example.com:27017` for one host).",
			},
			"auth_database": identityschema.StringAttribute{
				OptionalForImport: true,
				Description:       "The user's authentication database (default `admin`).",
			},
			"username": identityschema.StringAttribute{
				RequiredForImport: true,
				Description:       "The MongoDB user name.",
			},
		},
	}
}

// account is a MongoDB account named the way its identity names it.
type account struct {
	hosts        []string
	authDatabase string
	username     string
}

func (a account) seedList() string { return strings.Join(a.hosts, ",") }

// srvScheme marks an SRV seed list in an account's hosts.
const srvScheme = "mongodb+srv://"

// importID is the account as `terraform import` takes it: user@authdb on host:port,...
func (a account) importID() string {
	return a.username + "@" + a.authDatabase + " on " + a.seedList()
}

// parseAccount reads "user@authdb on host:port[,host:port...]", the form of
// the segura-credential tag and of the credential's import id. The user name
// may itself contain "@": the last one before " on " separates the database.
func parseAccount(s string) (account, error) {
	who, hosts, ok := strings.Cut(s, " on ")
	at := strings.LastIndex(who, "@")
	if !ok || at <= 0 || at == len(who)-1 || strings.TrimSpace(hosts) == "" || strings.HasPrefix(hosts, "hosts#") {
		return account{}, fmt.Errorf("%q is not an account: expected user@authdb on host:port[,host:port...]", s)
	}
	a := account{username: who[:at], authDatabase: who[at+1:]}
	for _, h := range strings.Split(hosts, ",") {
		if h = strings.TrimSpace(h); strings.HasPrefix(h, srvScheme) {
			a.hosts = append(a.hosts, h) // an SRV seed list, as deviceRef.seedList names it
			continue
		}
		a.hosts = append(a.hosts, mongodb.NormalizeHost(h, int(mongodb.DefaultPort)))
	}
	return a, nil
}

// credentialAccount is the account of a credential model; ok is false while
// any part of it is unknown.
func credentialAccount(ctx context.Context, c credentialRef) (account, bool) {
	dev, ok, _ := refFromObject[deviceRef](ctx, c.Device)
	if !ok || !dev.connectionKnown() || !known(c.Username, c.AuthDatabase) || c.Username.IsNull() {
		return account{}, false
	}
	hosts, d := dev.seedList(ctx)
	if d.HasError() || len(hosts) == 0 {
		return account{}, false
	}
	return account{hosts: hosts, authDatabase: c.authDatabase(), username: c.Username.ValueString()}, true
}

// setCredentialIdentity records the identity of the credential in state.
func setCredentialIdentity(ctx context.Context, identity *tfsdk.ResourceIdentity, state tfsdk.State) diag.Diagnostics {
	if identity == nil || state.Raw.IsNull() {
		return nil
	}
	var m credentialResourceModel
	diags := state.Get(ctx, &m)
	a, ok := credentialAccount(ctx, m.credentialRef)
	if diags.HasError() || !ok {
		return diags
	}
	diags.Append(identity.Set(ctx, credentialIdentityModel{
		DeviceAddress: types.StringValue(a.seedList()),
		AuthDatabase:  types.StringValue(a.authDatabase),
		Username:      types.StringValue(a.username),
	})...)
	return diags
}

// importedDeviceRef is the device object an imported or listed credential
// carries until the configuration passes the real segura_device: the seed
// list stands in for the device's id and name.
func importedDeviceRef(a account) (types.Object, diag.Diagnostics) {
	d := deviceRef{
		ID: types.StringValue(a.seedList()), Name: types.StringValue(a.seedList()), Type: types.StringValue("mongodb"),
		Address: types.StringNull(), Hosts: types.ListNull(types.StringType), Port: types.Int64Null(), ReplicaSet: types.StringNull(),
		TLS: types.BoolNull(), TLSCAFile: types.StringNull(), TLSInsecureSkipVerify: types.BoolNull(),
		SRVHost: types.StringNull(), TLSCertificateKeyFile: types.StringNull(), TLSAllowInvalidHosts: types.BoolNull(),
		Options: types.MapNull(types.StringType),
	}
	var diags diag.Diagnostics
	switch {
	case len(a.hosts) == 1 && strings.HasPrefix(a.hosts[0], srvScheme):
		d.SRVHost = types.StringValue(strings.TrimPrefix(a.hosts[0], srvScheme))
	case len(a.hosts) == 1:
		d.Address = types.StringValue(a.hosts[0])
	default:
		elems := make([]attr.Value, len(a.hosts))
		for i, h := range a.hosts {
			elems[i] = types.StringValue(h)
		}
		d.Hosts, diags = types.ListValue(types.StringType, elems)
	}
	obj, d2 := types.ObjectValueFrom(context.Background(), deviceRefAttrTypes(), d)
	diags.Append(d2...)
	return obj, diags
}

// importCredential fills state (and identity) for the account an import
// names, by id ("user@authdb on host:port,...") or by identity.
func importCredential(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	const who = "segura_credential import"
	var a account
	var err error
	switch {
	case req.ID != "":
		a, err = parseAccount(req.ID)
	case req.Identity != nil:
		var m credentialIdentityModel
		resp.Diagnostics.Append(req.Identity.Get(ctx, &m)...)
		if resp.Diagnostics.HasError() {
			return
		}
		db := m.AuthDatabase.ValueString()
		if db == "" {
			db = mongodb.DefaultAuthSource
		}
		a, err = parseAccount(m.Username.ValueString() + "@" + db + " on " + m.DeviceAddress.ValueString())
	default:
		err = fmt.Errorf("no import id or identity given")
	}
	if err != nil {
		resp.Diagnostics.AddError("Invalid import id", who+": "+err.Error()+
			". Import by `user@authdb on host:port` (the segura-credential tag on the secrets the provider writes), or by identity.")
		return
	}
	id, err := uuid.GenerateUUID()
	if err != nil {
		resp.Diagnostics.AddError("Cannot import segura_credential", who+": generating a random id failed: "+err.Error())
		return
	}
	device, d := importedDeviceRef(a)
	resp.Diagnostics.Append(d...)
	for name, v := range map[string]attr.Value{
		"id": types.StringValue(id), "username": types.StringValue(a.username), "auth_database": types.StringValue(a.authDatabase),
		"mechanism": types.StringValue(mongodb.MechanismSCRAMSHA256), "device": device,
	} {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(name), v)...)
	}
	if resp.Identity != nil {
		resp.Diagnostics.Append(resp.Identity.Set(ctx, credentialIdentityModel{
			DeviceAddress: types.StringValue(a.seedList()), AuthDatabase: types.StringValue(a.authDatabase), Username: types.StringValue(a.username),
		})...)
	}
}
