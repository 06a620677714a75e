package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
	"github.com/segura-community/terraform-provider-segura/internal/rotation"
)

var (
	_ datasource.DataSource              = (*credentialHistoryDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*credentialHistoryDataSource)(nil)
)

// defaultHistoryLimit is how many rotations the history lists by default.
const defaultHistoryLimit = 10

// NewCredentialHistoryDataSource returns the segura_credential_history data
// source.
func NewCredentialHistoryDataSource() datasource.DataSource {
	return &credentialHistoryDataSource{}
}

// credentialHistoryDataSource lists a credential's last rotations, read from
// the tags of its secrets' versions and of its escrow secret's versions
// (rotation.RotationsOf). It lists versions and never reads a value: the
// identity needs only the "list" permission, and nothing it returns is a
// password, so it is a data source, kept in state, rather than an ephemeral
// resource.
type credentialHistoryDataSource struct {
	data *providerData
}

type credentialHistoryModel struct {
	ID               types.String `tfsdk:"id"`
	SecretIDs        types.List   `tfsdk:"secret_ids"`
	EscrowSecretName types.String `tfsdk:"escrow_secret_name"`
	Limit            types.Int64  `tfsdk:"limit"`
	Total            types.Int64  `tfsdk:"total"`
	Rotations        types.List   `tfsdk:"rotations"`
}

type historyRotationModel struct {
	RotationID    types.String `tfsdk:"rotation_id"`
	RotatedAt     types.String `tfsdk:"rotated_at"`
	StartedAt     types.String `tfsdk:"started_at"`
	Account       types.String `tfsdk:"account"`
	Outcome       types.String `tfsdk:"outcome"`
	RolledBack    types.Bool   `tfsdk:"rolled_back"`
	FinishedBy    types.String `tfsdk:"finished_by"`
	EscrowVersion types.String `tfsdk:"escrow_version"`
	EscrowState   types.String `tfsdk:"escrow_state"`
	TookOver      types.List   `tfsdk:"took_over"`
	Versions      types.List   `tfsdk:"versions"`
}

type historyVersionModel struct {
	SecretID  types.String `tfsdk:"secret_id"`
	Version   types.String `tfsdk:"version"`
	CreatedAt types.String `tfsdk:"created_at"`
	Rollback  types.Bool   `tfsdk:"rollback"`
}

var historyVersionType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"secret_id": types.StringType, "version": types.StringType, "created_at": types.StringType, "rollback": types.BoolType,
}}

var historyRotationType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"rotation_id": types.StringType, "rotated_at": types.StringType, "started_at": types.StringType, "account": types.StringType,
	"outcome": types.StringType, "rolled_back": types.BoolType, "finished_by": types.StringType, "escrow_version": types.StringType,
	"escrow_state": types.StringType, "took_over": types.ListType{ElemType: types.StringType}, "versions": types.ListType{ElemType: historyVersionType},
}}

// secretIDPattern matches a versionless Key Vault secret id.
var secretIDPattern = regexp.MustCompile(`^https://[^/\s]+/secrets/[0-9a-zA-Z-]{1,127}/?$`)

func (d *credentialHistoryDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_credential_history"
}

func (d *credentialHistoryDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The last rotations of a credential, as an auditor asks for them: when each ran, for which account, which " +
			"secret versions it wrote, and how it ended (completed, rolled back, aborted, pending in the escrow, or interrupted and " +
			"finished by a later apply). Everything comes from the tags the provider stamps on the versions it writes (`" +
			keyvault.TagRotationID + "`, `" + keyvault.TagRotatedAt + "`, `" + keyvault.TagCredential + "`) and on the versions of the " +
			"escrow secret (`" + rotation.TagEscrowState + "`, `" + rotation.TagEscrowStagedAt + "`), so it sees rotations from every " +
			"workspace, the `segura_rotate` action's, and those from before a `terraform apply -replace` or a lost state.\n\n" +
			"It lists versions and never reads a secret's value: the identity needs only the `list` permission on the bound secrets and the " +
			"escrow secret, and nothing it returns is a password. That is why it is a data source, whose result is kept in state and shown by " +
			"`terraform output`, and not an ephemeral resource.\n\n" +
			"No tag records why a rotation ran: the reason is the rotation resource's `last_rotation_reason` and the apply's log, not part " +
			"of this history.\n\n" +
			"It reads with the provider's own Azure credential, not a `segura_dsm_application`'s client secret. A data source is read " +
			"during the plan; to list a rotation made in the same apply, add `depends_on = [segura_credential_rotation.<name>]`.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Versionless id of the primary (first) secret.",
				Computed:            true,
			},
			"secret_ids": schema.ListAttribute{
				MarkdownDescription: "Versionless ids (`https://<vault>/secrets/<name>`) of the credential's bound secrets, the primary first: " +
					"the `id` of each `segura_keyvault_sync`, in the order of the rotation's `syncs`. The primary is enough to list every " +
					"rotation; the others add the versions written to them.",
				ElementType: types.StringType,
				Required:    true,
				Validators: []validator.List{
					listvalidator.SizeBetween(1, 32),
					listvalidator.UniqueValues(),
					listvalidator.ValueStringsAre(stringvalidator.RegexMatches(secretIDPattern, "must be a versionless Key Vault secret id, https://<vault>/secrets/<name>")),
				},
			},
			"escrow_secret_name": schema.StringAttribute{
				MarkdownDescription: "The rotation's `escrow_secret_name`, in the primary secret's vault. Defaults to the primary secret's name " +
					"followed by `" + escrowSuffix + "`, as the rotation's does.",
				Optional: true,
				Computed: true,
				Validators: []validator.String{stringvalidator.RegexMatches(keyvault.SecretNamePattern,
					"must be 1-127 characters, each a letter, a digit or '-' (Key Vault's rule for secret names)")},
			},
			"limit": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("How many rotations to list, newest first. Default %d.", defaultHistoryLimit),
				Optional:            true,
				Validators:          []validator.Int64{int64validator.Between(1, 1000)},
			},
			"total": schema.Int64Attribute{
				MarkdownDescription: "How many rotation attempts the tags record in all (`rotations` lists the last `limit` of them).",
				Computed:            true,
			},
			"rotations": schema.ListNestedAttribute{
				MarkdownDescription: "The rotation attempts, newest first (by when Key Vault recorded their first version).",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"rotation_id": schema.StringAttribute{Computed: true, MarkdownDescription: "The rotation id (`" + keyvault.TagRotationID + "`), " +
						"as in the rotation's `last_rotation_id` and in the provider's logs. Null for an interrupted rotation that wrote no bound " +
						"secret and whose escrow version a later rotation took over: taking over re-tags the version, so its id is recorded nowhere."},
					"rotated_at": schema.StringAttribute{Computed: true, MarkdownDescription: "The rotation's time (`" + keyvault.TagRotatedAt +
						"`, RFC 3339), as in `last_rotated_at`; null when nothing it left carries it."},
					"started_at": schema.StringAttribute{Computed: true, MarkdownDescription: "When it staged its password in the escrow secret, " +
						"before changing MongoDB (RFC 3339); null without an escrow record."},
					"account": schema.StringAttribute{Computed: true, MarkdownDescription: "The account (`" + keyvault.TagCredential +
						"`): `user@authdb on host:port,...`."},
					"outcome": schema.StringAttribute{Computed: true, MarkdownDescription: "How it ended: `" + string(rotation.OutcomeCompleted) +
						"` (every secret written and verified); `" + string(rotation.OutcomeRolledBack) + "` (a Key Vault write failed after " +
						"MongoDB changed, and MongoDB and the secrets already written were put back on the previous password); `" +
						string(rotation.OutcomeAborted) + "` (it stopped without leaving its password in MongoDB and wrote no secret); `" +
						string(rotation.OutcomePending) + "` (its password is still pending in the escrow: it is running, or it died or stopped " +
						"half-way, and the next apply finishes it); `" + string(rotation.OutcomeInterrupted) + "` (it did not finish, and the " +
						"later rotation `finished_by` did); `" + string(rotation.OutcomeUnknown) + "` (known only as the rotation that took " +
						"another over; its own escrow version is gone)."},
					"rolled_back": schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether it was rolled back (`outcome = \"" +
						string(rotation.OutcomeRolledBack) + "\"`)."},
					"finished_by": schema.StringAttribute{Computed: true, MarkdownDescription: "For an `" + string(rotation.OutcomeInterrupted) +
						"` rotation: the id of the first later rotation that completed, starting from the password the interrupted one left " +
						"(in the escrow or in a secret it wrote). Null otherwise."},
					"escrow_version": schema.StringAttribute{Computed: true, MarkdownDescription: "Its version of the escrow secret; null without one."},
					"escrow_state": schema.StringAttribute{Computed: true, MarkdownDescription: "That version's `" + rotation.TagEscrowState +
						"`: `pending`, `done` or `aborted`, or `" + rotation.EscrowTakenOver + "` when a later rotation took it over; null " +
						"without one."},
					"took_over": schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "Escrow versions of " +
						"interrupted rotations this one took over (it found their password, the one MongoDB had, and finished from it), or " +
						"retired once they were more than an hour old."},
					"versions": schema.ListNestedAttribute{Computed: true, MarkdownDescription: "The versions it wrote to the bound secrets, " +
						"oldest first, a roll-back's included.",
						NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
							"secret_id":  schema.StringAttribute{Computed: true, MarkdownDescription: "Versionless id of the secret."},
							"version":    schema.StringAttribute{Computed: true, MarkdownDescription: "The version."},
							"created_at": schema.StringAttribute{Computed: true, MarkdownDescription: "When Key Vault created it (RFC 3339)."},
							"rollback": schema.BoolAttribute{Computed: true, MarkdownDescription: "Written by the roll-back: the previous " +
								"password again (tagged `<rotation id>-rollback`)."},
						}},
					},
				}},
			},
		},
	}
}

func (d *credentialHistoryDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *credentialHistoryDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m credentialHistoryModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	const who = "segura_credential_history"
	if d.data == nil {
		resp.Diagnostics.AddError("Provider not configured", who+": the segura provider was not configured before use. This is a bug in the provider; please report it.")
		return
	}
	var ids []string
	resp.Diagnostics.Append(m.SecretIDs.ElementsAs(ctx, &ids, false)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var bound []rotation.BoundVersions
	var primaryVault *keyvault.Vault
	var primaryName string
	for i, raw := range ids {
		vaultURL, name, err := keyvault.ParseSecretID(raw)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("secret_ids").AtListIndex(i), "Invalid secret id", who+": "+err.Error()+".")
			return
		}
		v, err := d.data.KeyVault.Vault(vaultURL, keyvault.Identity{})
		if err != nil {
			resp.Diagnostics.Append(keyVaultErrorDiagnostic(who, err))
			return
		}
		if i == 0 {
			primaryVault, primaryName = v, name
		}
		id := keyvault.SecretID(vaultURL, name)
		versions, err := v.SecretVersions(ctx, name)
		switch {
		case errors.Is(err, keyvault.ErrSecretNotFound):
			resp.Diagnostics.AddAttributeWarning(path.Root("secret_ids").AtListIndex(i), "Key Vault secret does not exist",
				fmt.Sprintf("%s: Key Vault %s has no live secret named %q (never written yet, deleted, or soft-deleted), so no version of it is listed.", who, vaultURL, name))
		case err != nil:
			resp.Diagnostics.Append(keyVaultErrorDiagnostic(who+" (listing the versions of "+id+")", err))
			return
		}
		bound = append(bound, rotation.BoundVersions{SecretID: id, Versions: versions})
	}
	escrowName := m.EscrowSecretName.ValueString()
	if m.EscrowSecretName.IsNull() || m.EscrowSecretName.IsUnknown() || escrowName == "" {
		escrowName = primaryName + escrowSuffix
	}
	escrow, err := primaryVault.SecretVersions(ctx, escrowName)
	if err != nil && !errors.Is(err, keyvault.ErrSecretNotFound) {
		resp.Diagnostics.Append(keyVaultErrorDiagnostic(who+" (listing the versions of the escrow secret "+keyvault.SecretID(primaryVault.URL, escrowName)+")", err))
		return
	}

	records := rotation.RotationsOf(bound, escrow)
	limit := int64(defaultHistoryLimit)
	if !m.Limit.IsNull() && !m.Limit.IsUnknown() {
		limit = m.Limit.ValueInt64()
	}
	m.Total = types.Int64Value(int64(len(records)))
	if int64(len(records)) > limit {
		records = records[:limit]
	}
	list, d2 := historyList(ctx, records)
	resp.Diagnostics.Append(d2...)
	if resp.Diagnostics.HasError() {
		return
	}
	m.ID = types.StringValue(bound[0].SecretID)
	m.EscrowSecretName = types.StringValue(escrowName)
	m.Rotations = list
	tflog.Info(ctx, "read rotation history", map[string]any{"secret": bound[0].SecretID, "rotations": len(records), "total": m.Total.ValueInt64()})
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// historyList converts the records into the rotations attribute.
func historyList(ctx context.Context, records []rotation.RotationRecord) (types.List, diag.Diagnostics) {
	var diags diag.Diagnostics
	out := make([]historyRotationModel, 0, len(records))
	for _, r := range records {
		versions := make([]historyVersionModel, 0, len(r.Written))
		for _, w := range r.Written {
			versions = append(versions, historyVersionModel{
				SecretID: types.StringValue(w.SecretID), Version: types.StringValue(w.Version),
				CreatedAt: timeOrNull(w.Created), Rollback: types.BoolValue(w.Rollback),
			})
		}
		vl, d := types.ListValueFrom(ctx, historyVersionType, versions)
		diags.Append(d...)
		took := r.TookOver
		if took == nil {
			took = []string{}
		}
		tl, d := types.ListValueFrom(ctx, types.StringType, took)
		diags.Append(d...)
		out = append(out, historyRotationModel{
			RotationID:    stringOrNull(r.ID),
			RotatedAt:     timeOrNull(r.RotatedAt),
			StartedAt:     timeOrNull(r.StagedAt),
			Account:       stringOrNull(r.Account),
			Outcome:       types.StringValue(string(r.Outcome)),
			RolledBack:    types.BoolValue(r.Outcome == rotation.OutcomeRolledBack),
			FinishedBy:    stringOrNull(r.FinishedBy),
			EscrowVersion: stringOrNull(r.EscrowVersion),
			EscrowState:   stringOrNull(r.EscrowState),
			TookOver:      tl,
			Versions:      vl,
		})
	}
	list, d := types.ListValueFrom(ctx, historyRotationType, out)
	diags.Append(d...)
	return list, diags
}

func timeOrNull(t time.Time) types.String {
	if t.IsZero() {
		return types.StringNull()
	}
	return types.StringValue(t.UTC().Format(time.RFC3339))
}
