// Command server is a complete authentication service built on this
// module: sign-up and login under /api/user, a protected GET /api/user/me,
// and GET /healthz, kept in an embedded SQLite file.
//
//	go run ./examples/server [-addr :8080] [-db gatehouse.db]
//
// The HS256 signing secret comes from the environment variable
// AUTH_JWT_SECRET (at least 32 bytes). Without it, the server generates a
// random secret, keeps it next to the database file (<db>.secret, mode
// 0600) and says so on start-up, so tokens survive restarts.
//
// It logs in logfmt on standard error, never a password, hash, token or
// secret, and shuts down gracefully on SIGINT or SIGTERM.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/httpauth"
	"github.com/gatehouse-go/gatehouse/store/sqlitestore"
	_ "modernc.org/sqlite"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(ctx, os.Args[1:], os.Getenv, log, nil); err != nil {
		log.Error("server stopped", "error", err)
		os.Exit(1)
	}
}

// run starts the server and blocks until ctx is done, then shuts down
// gracefully. ready, if not nil, is called with the listening address once
// requests can be served.
func run(ctx context.Context, args []string, getenv func(string) string, log *slog.Logger, ready func(addr string)) error {
	flags := flag.NewFlagSet("server", flag.ContinueOnError)
	addr := flags.String("addr", ":8080", "`address` to listen on")
	dbPath := flags.String("db", "gatehouse.db", "SQLite database `file` (created if missing)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if strings.Contains(*dbPath, "://") {
		return fmt.Errorf("-db %q: only a SQLite file path is supported by this version", redactDSN(*dbPath))
	}

	db, err := sql.Open("sqlite", "file:"+*dbPath+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		return err
	}
	defer db.Close()
	store := sqlitestore.New(db)
	if err := store.Migrate(ctx); err != nil {
		return fmt.Errorf("preparing database %s: %w", *dbPath, err)
	}

	secret, err := loadSecret(getenv, *dbPath+".secret", log)
	if err != nil {
		return err
	}
	svc, err := auth.New(store, auth.Config{Secret: secret})
	if err != nil {
		return err
	}
	h, err := httpauth.New(svc, httpauth.Config{Logger: log})
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	h.Mount(mux)
	mux.Handle("GET /api/user/me", h.Middleware(http.HandlerFunc(me)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"ok"}`+"\n")
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "db", *dbPath)
	if ready != nil {
		ready(ln.Addr().String())
	}

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	return nil
}

// me answers GET /api/user/me with the caller's identity.
func me(w http.ResponseWriter, r *http.Request) {
	c, ok := httpauth.ClaimsFromContext(r.Context())
	if !ok { // not reached behind the middleware; never panic
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(struct {
		UserID   string `json:"userId"`
		Email    string `json:"email"`
		UserName string `json:"userName"`
	}{c.UserID, c.Email, c.UserName})
}

// loadSecret returns AUTH_JWT_SECRET if set. Otherwise it reads the secret
// kept at path, creating it (32 random bytes, base64url, mode 0600) on the
// first start.
func loadSecret(getenv func(string) string, path string, log *slog.Logger) ([]byte, error) {
	if s := getenv("AUTH_JWT_SECRET"); s != "" {
		log.Info("using the JWT secret from AUTH_JWT_SECRET")
		return []byte(s), nil
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	secret := base64.RawURLEncoding.EncodeToString(raw[:])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		_, werr := f.WriteString(secret + "\n")
		if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
			os.Remove(path)
			return nil, fmt.Errorf("writing JWT secret: %w", err)
		}
		log.Info("AUTH_JWT_SECRET not set: generated a JWT secret and saved it for later starts", "file", path)
		return []byte(secret), nil
	case errors.Is(err, fs.ErrExist):
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading JWT secret: %w", err)
		}
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			log.Warn("JWT secret file is readable by other users; chmod 600 it", "file", path)
		}
		log.Info("AUTH_JWT_SECRET not set: using the saved JWT secret", "file", path)
		return []byte(strings.TrimSpace(string(b))), nil
	default:
		return nil, fmt.Errorf("creating JWT secret file: %w", err)
	}
}

// redactDSN drops the password from a database URL for messages.
func redactDSN(dsn string) string {
	if scheme, rest, ok := strings.Cut(dsn, "://"); ok {
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			return scheme + "://…@" + rest[at+1:]
		}
	}
	return dsn
}
