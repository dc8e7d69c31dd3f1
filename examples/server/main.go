// Command server is a complete authentication service built on this
// module: sign-up and login under /api/user, a protected GET /api/user/me,
// the public signing keys at GET /.well-known/jwks.json, and GET /healthz,
// kept by default in an embedded SQLite file.
//
//	go run ./examples/server [-addr :8080] [-db gatehouse.db] [-alg HS256] [-refresh]
//	go run ./examples/server -alg ES256
//	go run ./examples/server -refresh
//	AUTH_JWT_SECRET=... go run ./examples/server -db postgres://user@host/dbname
//	AUTH_JWT_SECRET=... go run ./examples/server -db mysql://user:password@host:3306/dbname
//	AUTH_JWT_SECRET=... AUTH_JWT_PRIVATE_KEY="$(cat key.pem)" go run ./examples/server -alg EdDSA -db postgres://...
//
// -db is a SQLite file path, a postgres:// or postgresql:// URL
// (PostgreSQL, any replica count on one database), or a mysql:// URL
// (MySQL or MariaDB). The users table is created on start if it is
// missing; several replicas may start at once. A missing SQLite file is
// created mode 0600 (SQLite gives its -wal and -shm files the same mode),
// since it holds emails and password hashes; the server warns on start-up
// when an existing one is readable by group or others.
//
// -alg is the token signing algorithm: HS256 (the default), EdDSA
// (Ed25519), ES256 (ECDSA on P-256) or RS256 (RSA). HS256 tokens carry no
// kid; the others carry the signing key's RFC 7638 thumbprint as kid, and
// GET /.well-known/jwks.json publishes the public key so that other
// services can verify tokens without any secret ({"keys":[]} for HS256).
//
// # Sessions
//
// -refresh turns on refresh tokens and stateful verification
// (auth.Config.RefreshTokens and CheckRevocation): sign-up and login also
// return a "refreshToken", which POST /api/user/refresh
// {"refreshToken": "..."} trades for a new access token and refresh token;
// POST /api/user/logout {"refreshToken": "..."} ends that session; POST
// /api/user/logout-all, with the access token, ends every session of its
// user, and the access tokens issued before it stop working at once (each
// request to a protected route then costs one database read). POST
// /api/user/password {"currentPassword", "newPassword"}, with the access
// token, changes the password with or without -refresh; with it, the
// user's other sessions end. With -refresh the server deletes expired
// refresh tokens every hour (auth.Service.PruneSessions), until it shuts
// down; replicas on one database may all do so. Without -refresh, the
// responses are the seed API's exactly: userId, email, userName and token.
//
// # Environment and files
//
// AUTH_JWT_SECRET (at least 32 bytes) is needed with every -alg: it is the
// HS256 signing key, and with any -alg it keys the login-throttling
// counters. With a database URL it is required, since every replica must
// share it. On SQLite, without it, the server generates a random secret,
// keeps it next to the database file (<db>.secret, mode 0600) and says so
// on start-up, so tokens survive restarts.
//
// AUTH_JWT_PRIVATE_KEY is the PEM-encoded private key for EdDSA, ES256 or
// RS256 (PKCS #8 "PRIVATE KEY", SEC 1 "EC PRIVATE KEY" or PKCS #1 "RSA
// PRIVATE KEY"); its type must match -alg. With a database URL it is
// required for those algorithms, since every replica must sign with the
// same key. On SQLite, without it, the server generates a key (Ed25519,
// ECDSA P-256 or RSA 3072 bits) on the first start and keeps it, in
// PKCS #8 PEM, next to the database file as <db>.jwt-eddsa.pem,
// <db>.jwt-es256.pem or <db>.jwt-rs256.pem (mode 0600), one file per
// algorithm; switching -alg therefore invalidates earlier tokens. The
// server warns on start-up when a kept file is readable by group or
// others.
//
// It logs in logfmt on standard error, never a password, hash, token,
// secret or private key, and shuts down gracefully on SIGINT or SIGTERM.
package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
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
	"github.com/gatehouse-go/gatehouse/auth/token"
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
	alg := flags.String("alg", "HS256", "token signing `algorithm`: HS256, EdDSA, ES256 or RS256")
	refresh := flags.Bool("refresh", false, "issue refresh tokens (POST /api/user/refresh, /logout, /logout-all) and check access tokens against revocations")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *alg != "HS256" && newPrivateKey[*alg] == nil {
		return fmt.Errorf("-alg %q: want HS256, EdDSA, ES256 or RS256", *alg)
	}
	secret, err := loadSecret(getenv, *dbPath, log)
	if err != nil {
		return err
	}
	keys, err := loadKeys(getenv, *alg, *dbPath, log)
	if err != nil {
		return err
	}
	store, closeDB, err := openStore(ctx, *dbPath, log)
	if err != nil {
		return err
	}
	defer closeDB()
	svc, err := auth.New(store, auth.Config{
		Secret:          secret,
		Keys:            keys,
		Logger:          log,
		RefreshTokens:   *refresh,
		CheckRevocation: *refresh,
	})
	if err != nil {
		return err
	}
	if *refresh {
		// Stopped, and waited for, before the database is closed.
		tick := time.NewTicker(time.Hour)
		pruneCtx, stopPruning := context.WithCancel(ctx)
		pruned := make(chan struct{})
		go func() {
			defer close(pruned)
			pruneSessions(pruneCtx, svc, tick.C, log)
		}()
		defer func() { stopPruning(); tick.Stop(); <-pruned }()
	}
	h, err := httpauth.New(svc, httpauth.Config{Logger: log})
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	h.Mount(mux)
	mux.Handle("GET /api/user/me", h.Middleware(http.HandlerFunc(me)))
	mux.Handle("GET /.well-known/jwks.json", httpauth.JWKS(svc.Keys()))
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

// pruneSessions deletes the expired refresh tokens at every tick until
// ctx is done.
func pruneSessions(ctx context.Context, svc *auth.Service, tick <-chan time.Time, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
		n, err := svc.PruneSessions(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("pruning expired refresh tokens failed; will try again at the next run", "error", err)
		case n > 0:
			log.Info("pruned expired refresh tokens", "deleted", n)
		}
	}
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
// (MySQL/MariaDB), or else a SQLite file path (see createPrivate). It
// creates the users table if needed.
func openStore(ctx context.Context, db string, log *slog.Logger) (migratingStore, func() error, error) {
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
		if err := createPrivate(db, log); err != nil {
			return nil, nil, err
		}
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

// createPrivate creates the SQLite database file path, empty and mode
// 0600, if it does not exist: SQLite would create it 0644 under the usual
// umask, and it holds emails and password hashes. SQLite creates the -wal
// and -shm files next to it with the database file's mode. An existing
// file is used as it is, with a warning for it, and for its -wal and -shm
// files, if group or others may read them.
func createPrivate(path string, log *slog.Logger) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		return f.Close()
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("creating database %s: %w", path, err)
	}
	// The file exists: from an earlier start, from another server starting
	// at the same moment, or from the operator.
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o077 != 0 {
			log.Warn("database file is readable by other users; stop the server and chmod 600 it", "file", p)
		}
	}
	return nil
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
	secret, err := loadOrCreate(db+".secret", "JWT secret", "AUTH_JWT_SECRET", newSecret, log)
	return bytes.TrimSpace(secret), err
}

// newSecret returns 32 random bytes, base64url-encoded, and a newline.
func newSecret() ([]byte, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	return []byte(base64.RawURLEncoding.EncodeToString(raw[:]) + "\n"), nil
}

// newPrivateKey generates a private key for each asymmetric -alg.
var newPrivateKey = map[string]func() (crypto.Signer, error){
	"EdDSA": func() (crypto.Signer, error) { _, k, err := ed25519.GenerateKey(rand.Reader); return k, err },
	"ES256": func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) },
	"RS256": func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 3072) },
}

// loadKeys returns the signing key set for -alg, or nil for HS256, where
// the service signs with its secret. The private key comes from
// AUTH_JWT_PRIVATE_KEY or, on SQLite, from the file kept next to the
// database (see privateKeyPEM); its type must match alg.
func loadKeys(getenv func(string) string, alg, db string, log *slog.Logger) (*token.KeySet, error) {
	if alg == "HS256" {
		if getenv("AUTH_JWT_PRIVATE_KEY") != "" {
			log.Warn("AUTH_JWT_PRIVATE_KEY is ignored with -alg HS256")
		}
		return nil, nil
	}
	data, source, err := privateKeyPEM(getenv, alg, db, log)
	if err != nil {
		return nil, err
	}
	key, err := token.ParseKeyPEM("", data)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s: %w", source, err)
	case key.Algorithm() != alg:
		return nil, fmt.Errorf("%s holds an %s key, but -alg is %s", source, key.Algorithm(), alg)
	case !key.CanSign():
		return nil, fmt.Errorf("%s holds a public key; the server needs the private key to sign tokens", source)
	}
	log.Info("signing tokens", "alg", alg, "kid", key.ID())
	return token.NewKeySet(key)
}

// privateKeyPEM returns the PEM text of the private key for alg and where
// it came from, for messages: AUTH_JWT_PRIVATE_KEY if set; otherwise, for
// a database URL, an error, since replicas must share the key; for a
// SQLite file, the key kept in keyFile(db, alg), generated on the first
// start.
func privateKeyPEM(getenv func(string) string, alg, db string, log *slog.Logger) (data []byte, source string, err error) {
	if s := getenv("AUTH_JWT_PRIVATE_KEY"); s != "" {
		log.Info("using the JWT signing key from AUTH_JWT_PRIVATE_KEY")
		return []byte(s), "AUTH_JWT_PRIVATE_KEY", nil
	}
	if dbURL(db) {
		return nil, "", fmt.Errorf("AUTH_JWT_PRIVATE_KEY must be set for -alg %s when -db is a database URL: every replica must sign with the same key", alg)
	}
	path := keyFile(db, alg)
	data, err = loadOrCreate(path, alg+" signing key", "AUTH_JWT_PRIVATE_KEY", func() ([]byte, error) {
		return generatePEM(alg)
	}, log)
	return data, path, err
}

// keyFile names the file that keeps the generated private key for alg
// next to the SQLite database db.
func keyFile(db, alg string) string { return db + ".jwt-" + strings.ToLower(alg) + ".pem" }

// generatePEM returns a new private key for alg in PKCS #8 PEM.
func generatePEM(alg string) ([]byte, error) {
	key, err := newPrivateKey[alg]()
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// loadOrCreate returns the contents of path, a file that keeps what (a
// secret, named so in messages) across restarts. If the file does not
// exist, it saves generate's output there first (see writeNew), so that of
// two servers starting at once only one writes and both use the same
// contents. env names the variable that would have supplied what. It
// warns when the file is readable by group or others.
func loadOrCreate(path, what, env string, generate func() ([]byte, error), log *slog.Logger) ([]byte, error) {
	data, err := readKept(path, what, log)
	if errors.Is(err, fs.ErrNotExist) {
		data, err = writeNew(path, what, generate)
		if err == nil {
			log.Info(env+" not set: generated a new "+what+" and saved it for later starts", "file", path)
			return data, nil
		}
		if errors.Is(err, fs.ErrExist) { // another server created it meanwhile
			data, err = readKept(path, what, log)
		}
	}
	if err != nil {
		return nil, err
	}
	log.Info(env+" not set: using the saved "+what, "file", path)
	return data, nil
}

// writeNew saves generate's output in path, created with O_EXCL and mode
// 0600, and returns it. Its error wraps fs.ErrExist if path exists.
func writeNew(path, what string, generate func() ([]byte, error)) ([]byte, error) {
	data, err := generate()
	if err != nil {
		return nil, fmt.Errorf("generating %s: %w", what, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating %s file: %w", what, err)
	}
	_, werr := f.Write(data)
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("writing %s: %w", what, err)
	}
	return data, nil
}

// readKept reads the file kept by loadOrCreate, warning when group or
// others may read it. Its error wraps fs.ErrNotExist if there is no file.
func readKept(path, what string, log *slog.Logger) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn(what+" file is readable by other users; chmod 600 it", "file", path)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	return data, nil
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
