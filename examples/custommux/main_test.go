package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/store/memstore"
)

func TestCustomMux(t *testing.T) {
	h, err := newHandler(memstore.New(), []byte("an example secret of 32+ bytes..."), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	get := func(path, token string) (int, map[string]any) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}

	if code, _ := get("/status", ""); code != 200 {
		t.Errorf("public route: %d", code)
	}
	if code, _ := get("/v1/orders", ""); code != 401 {
		t.Errorf("protected route without token: %d, want 401", code)
	}
	resp, err := srv.Client().Post(srv.URL+"/auth/signup", "application/json",
		strings.NewReader(`{"name":"Ada","email":"ada@example.com","password":"correct horse battery staple"}`))
	if err != nil {
		t.Fatal(err)
	}
	var sess map[string]string
	json.NewDecoder(resp.Body).Decode(&sess)
	resp.Body.Close()
	if resp.StatusCode != 200 || sess["token"] == "" {
		t.Fatalf("signup under /auth: %d %v", resp.StatusCode, sess)
	}
	code, body := get("/v1/orders", sess["token"])
	if code != 200 || body["owner"] != sess["userId"] {
		t.Errorf("protected route with token: %d %v", code, body)
	}
	if code, _ := get("/api/user/login", ""); code != 404 {
		t.Errorf("default prefix should not be mounted: %d", code)
	}
}
