package kvemulator_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/segura-community/terraform-provider-segura/internal/kvemulator"
)

// The client configuration the emulator needs: trust its CA, point the
// credential at its authority host without instance discovery, and let
// azsecrets accept a challenge from a non-Azure host.
func ExampleStart() {
	dir, err := os.MkdirTemp("", "kvemulator-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	e, err := kvemulator.Start(kvemulator.Options{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	vaultURL, err := e.AddVault("orders-kv")
	if err != nil {
		log.Fatal(err)
	}
	e.AddClient("rotator", "rotator-client-secret")
	e.SetAccessPolicy("orders-kv", "rotator", kvemulator.PermGet, kvemulator.PermSet)

	transport := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.CACertPool()}}}
	cred, err := azidentity.NewClientSecretCredential(e.TenantID(), "rotator", "rotator-client-secret", &azidentity.ClientSecretCredentialOptions{
		ClientOptions: azcore.ClientOptions{
			Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: e.AuthorityHost()},
			Transport: transport,
		},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	client, err := azsecrets.NewClient(vaultURL, cred, &azsecrets.ClientOptions{
		ClientOptions:                        azcore.ClientOptions{Transport: transport},
		DisableChallengeResourceVerification: true,
	})
	if err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	value := "s3cr3t"
	if _, err := client.SetSecret(ctx, "orders-db", azsecrets.SetSecretParameters{Value: &value}, nil); err != nil {
		log.Fatal(err)
	}
	got, err := client.GetSecret(ctx, "orders-db", "", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.ID.Name(), *got.Value == value)
	// Output: orders-db true
}
