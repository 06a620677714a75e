package kvemulator

import (
	"encoding/json"
	"net/http"
	"strings"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// keyVaultError is Key Vault's error body.
type keyVaultError struct {
	Error keyVaultErrorDetail `json:"error"`
}

type keyVaultErrorDetail struct {
	Code       string              `json:"code"`
	Message    string              `json:"message"`
	InnerError *keyVaultInnerError `json:"innererror,omitempty"`
}

type keyVaultInnerError struct {
	Code string `json:"code"`
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, keyVaultError{Error: keyVaultErrorDetail{Code: code, Message: message}})
}

func writeErrorInner(w http.ResponseWriter, status int, code, message, innerCode string) {
	writeJSON(w, status, keyVaultError{Error: keyVaultErrorDetail{
		Code: code, Message: message, InnerError: &keyVaultInnerError{Code: innerCode},
	}})
}

func lower(s string) string { return strings.ToLower(s) }
