// Command server is a complete authentication service built on this
// module: sign-up and login under /api/user, a protected GET /api/user/me,
// and GET /healthz, kept by default in an embedded SQLite file.
//
//	go run ./examples/server [-addr :8080] [-db gatehouse.db]
//	AUTH_JWT_SECRET=... go run ./examples/server -db postgres://user@host/dbname
//	AUTH_JWT_SECRET=... go run ./examples/server -db mysql://user:password@host:3306/dbname
//
// -db is a SQLite file path (created if missing), a postgres:// or
// postgresql:// URL (PostgreSQL, any replica count on one database), or a
// mysql:// URL (MySQL or MariaDB). The users table is created on start if
// it is missing; several replicas may start at once.
//
// The HS256 signing secret comes from the environment variable
// AUTH_JWT_SECRET (at least 32 bytes). With a database URL it is required,
// since every replica must share it. On SQLite, without it, the server
// generates a random secret, keeps it next to the database file
// (<db>.secret, mode 0600) and says so on start-up, so tokens survive
// restarts.
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
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/httpauth"
	"github.com/gatehouse-go/gatehouse/store/mysqlstore"
	"github.com/gatehouse-go/gatehouse/store/pgstore"
	"github.com/gatehouse-go/gatehouse/store/sqlitestore"
	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
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
	dbPath := flags.String("db", "gatehouse.db", "SQLite database `file` (created if missing), or a postgres:// or mysql:// URL")
	if err := flags.Parse(args); err != nil {
		return err
	}
	secret, err := loadSecret(getenv, *dbPath, log)
	if err != nil {
		return err
	}
	store, closeDB, err := openStore(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer closeDB()
	svc, err := auth.New(store, auth.Config{Secret: secret, Logger: log})
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
	log.Info("listening", "addr", ln.Addr().String(), "db", redactDSN(*dbPath))
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

// migratingStore is what every SQL store of this module provides.
type migratingStore interface {
	auth.UserStore
	Migrate(context.Context) error
}

// dbURL reports whether -db names a database server rather than a file.
func dbURL(db string) bool { return strings.Contains(db, "://") }

// openStore opens the database that -db names: a postgres:// or
// postgresql:// URL (PostgreSQL, through pgx), a mysql:// URL
// (MySQL/MariaDB), or else a SQLite file path. It creates the users table
// if needed.
func openStore(ctx context.Context, db string) (migratingStore, func() error, error) {
	var (
		driver, dsn string
		newStore    func(*sql.DB) migratingStore
	)
	switch {
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		driver, dsn = "pgx", db
		newStore = func(d *sql.DB) migratingStore { return pgstore.New(d) }
	case strings.HasPrefix(db, "mysql://"):
		var err error
		if dsn, err = mysqlDSN(db); err != nil {
			return nil, nil, err
		}
		driver = "mysql"
		newStore = func(d *sql.DB) migratingStore { return mysqlstore.New(d) }
	case dbURL(db):
		return nil, nil, fmt.Errorf("-db %s: want a postgres://, postgresql:// or mysql:// URL, or a SQLite file path", redactDSN(db))
	default:
		driver, dsn = "sqlite", "file:"+db+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"
		newStore = func(d *sql.DB) migratingStore { return sqlitestore.New(d) }
	}
	sqlDB, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("opening %s: %w", redactDSN(db), err)
	}
	store := newStore(sqlDB)
	if err := store.Migrate(ctx); err != nil {
		sqlDB.Close()
		return nil, nil, fmt.Errorf("preparing database %s: %w", redactDSN(db), err)
	}
	return store, sqlDB.Close, nil
}

// mysqlDSN turns mysql://user:password@host:port/dbname?params into the
// go-sql-driver/mysql DSN form; params are the driver's.
func mysqlDSN(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("-db: %w", errors.Unwrap(err))
	}
	cfg := mysql.NewConfig()
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net = "tcp"
	cfg.Addr = u.Host
	if u.Port() == "" {
		cfg.Addr = net.JoinHostPort(u.Hostname(), "3306")
	}
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	dsn := cfg.FormatDSN()
	if u.RawQuery != "" {
		dsn += "?" + u.RawQuery
	}
	if _, err := mysql.ParseDSN(dsn); err != nil {
		return "", fmt.Errorf("-db %s: %w", redactDSN(raw), err)
	}
	return dsn, nil
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

// loadSecret returns AUTH_JWT_SECRET if set. Otherwise, for a database
// URL, it fails: replicas sharing a database must share the secret. For a
// SQLite file, it reads the secret kept in <db>.secret, creating it (32
// random bytes, base64url, mode 0600) on the first start.
func loadSecret(getenv func(string) string, db string, log *slog.Logger) ([]byte, error) {
	if s := getenv("AUTH_JWT_SECRET"); s != "" {
		log.Info("using the JWT secret from AUTH_JWT_SECRET")
		return []byte(s), nil
	}
	if dbURL(db) {
		return nil, errors.New("AUTH_JWT_SECRET must be set when -db is a database URL: every replica must share it")
	}
	path := db + ".secret"
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
