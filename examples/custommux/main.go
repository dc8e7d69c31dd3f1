// Command custommux shows the library inside a service that already has
// its own router and routes:
//
//   - the service keeps its mux, and mounts sign-up and login under a
//     prefix of its own choosing (/auth/signup, /auth/login);
//   - its existing API under /v1/ goes behind the token middleware with one
//     line, and its handlers read the caller from the request context;
//   - its public routes (here /status) stay as they were.
//
// It keeps users in memory, so they are gone when it exits.
//
//	go run ./examples/custommux [-addr :8081]
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/httpauth"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

func main() {
	addr := flag.String("addr", ":8081", "`address` to listen on")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	// A random secret per run suits an in-memory store: tokens and users
	// are forgotten together.
	secret := make([]byte, 32)
	rand.Read(secret)
	handler, err := newHandler(memstore.New(), secret, log)
	if err != nil {
		log.Error("setup failed", "error", err)
		os.Exit(1)
	}

	srv := &http.Server{Addr: *addr, Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Shutdown(context.Background())
	}()
	log.Info("listening", "addr", *addr)
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Error("server stopped", "error", err)
		os.Exit(1)
	}
}

// newHandler builds the service's router.
func newHandler(store auth.UserStore, secret []byte, log *slog.Logger) (http.Handler, error) {
	svc, err := auth.New(store, auth.Config{Secret: secret})
	if err != nil {
		return nil, err
	}
	authHTTP, err := httpauth.New(svc, httpauth.Config{Prefix: "/auth", Logger: log})
	if err != nil {
		return nil, err
	}

	// The service's existing API, untouched.
	v1 := http.NewServeMux()
	v1.HandleFunc("GET /v1/orders", listOrders)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]string{"status": "ok"})
	})
	authHTTP.Mount(mux)                         // POST /auth/signup, POST /auth/login
	mux.Handle("/v1/", authHTTP.Middleware(v1)) // everything under /v1/ needs a token
	return mux, nil
}

// listOrders is an existing handler; behind the middleware it learns who
// is calling from the context.
func listOrders(w http.ResponseWriter, r *http.Request) {
	claims, ok := httpauth.ClaimsFromContext(r.Context())
	if !ok {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	writeJSON(w, map[string]any{"owner": claims.UserID, "orders": []string{}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
