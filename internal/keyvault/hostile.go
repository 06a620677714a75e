package keyvault

import (
	"fmt"
	"io"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// MaxResponseBytes bounds what the provider reads of one Key Vault (or
// Entra ID) response. Real responses are far smaller: a secret's value is at
// most 25 KB and a page of a list at most 25 items. A proxy or a broken
// endpoint answering with megabytes gets an error instead of the
// provider's memory.
const MaxResponseBytes = 1 << 20

// errResponseTooLarge is what reading past MaxResponseBytes returns.
var errResponseTooLarge = fmt.Errorf("the response is larger than %d bytes, far beyond any Key Vault answer: is a proxy or the wrong endpoint in the way?", MaxResponseBytes)

// responseLimit is an azcore per-retry policy that caps response bodies.
type responseLimit struct{}

func (responseLimit) Do(req *policy.Request) (*http.Response, error) {
	resp, err := req.Next()
	if err != nil || resp == nil || resp.Body == nil {
		return resp, err
	}
	if resp.ContentLength > MaxResponseBytes {
		resp.Body.Close()
		return nil, errResponseTooLarge
	}
	resp.Body = &limitedBody{r: io.LimitReader(resp.Body, MaxResponseBytes+1), c: resp.Body}
	return resp, nil
}

type limitedBody struct {
	r    io.Reader
	c    io.Closer
	read int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.read += int64(n)
	if b.read > MaxResponseBytes {
		return n, errResponseTooLarge
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.c.Close() }
