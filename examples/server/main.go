// Command server is a complete authentication service built on this
// module: sign-up and login under /api/user, the account's routes
// (GET /api/user/me, email verification, password reset, email change,
// deletion; see package httpauth), the public signing keys at
// GET /.well-known/jwks.json, and GET /healthz, kept by default in an
// embedded SQLite file.
//
//	go run ./examples/server [-addr :8080] [-db gatehouse.db] [-alg HS256] [-refresh] [-cookies=true]
//	    [-smtp smtp://[user:password@]host:port] [-mail-from ADDRESS] [-public-url http://localhost:8080]
//	go run ./examples/server -alg ES256
//	go run ./examples/server -refresh
//	go run ./examples/server -smtp smtp://localhost:1025 -mail-from no-reply@example.com
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
// user, and the access tokens issued before it stop working at once, on
// every route that takes an access token (each such request then costs
// one database read), as do those of a user whose password was reset or
// whose account was deleted. POST /api/user/password {"currentPassword",
// "newPassword"}, with the access token, changes the password with or
// without -refresh; with it, the user's other sessions end. Without
// -refresh, sign-up and login answer exactly the wire contract's userId,
// email, userName and token.
//
// # Browser apps
//
// The server runs in cookie mode (httpauth.Config.Cookies): sign-up,
// login, refresh and password change also set the access token, and with
// -refresh the refresh token, in HttpOnly cookies, which the middleware
// reads when a request has no Authorization header, so that a page of the
// server's own origin keeps no token in JavaScript; logout and
// logout-all clear them. State-changing requests that a browser sends
// from a page of another origin are refused (403). The bodies do not
// change, and bearer clients (curl with Authorization, apps) see the same
// answers, with Set-Cookie headers they may ignore. Over plain HTTP to
// localhost the cookies lack Secure; served over https (TLS ended by a
// proxy that passes the Host header on), they are Secure and
// __Host-prefixed. -cookies=false turns cookie mode off: tokens travel in
// bodies and the Authorization header only (see package httpauth,
// Cookie mode).
//
// The server deletes expired refresh tokens and expired one-time tokens
// of mailed links every hour (auth.Service.PruneSessions), until it shuts
// down; replicas on one database may all do so.
//
// # Mail
//
// Sign-up mails a link that verifies the address; POST
// /api/user/email/verify/resend, /password/forgot and /email/change mail
// more (see package httpauth). The links point to pages of the
// application under -public-url (default http://localhost:8080):
// /verify-email?token=T, /reset-password?token=T and
// /confirm-email?token=T, whose token the page posts to
// /api/user/email/verify, /password/reset or /email/change/confirm.
//
// Without -smtp, mail is not sent: the development sender
// (auth.LogMailer) writes each message, link included, to the server's
// log, which then holds live links: for development only. With
// -smtp smtp://[user:password@]host:port (STARTTLS, port 587 by default;
// plain SMTP to a loopback host, such as a local mailpit on
// smtp://localhost:1025) or smtps://[user:password@]host:port (implicit
// TLS, port 465 by default), the server sends mail through that server
// (package smtpmail), from -mail-from, which -smtp requires. A password
// with reserved characters is percent-encoded in the URL. Mail goes out
// off the request path; a message that cannot be delivered is logged and
// changes no answer. On shutdown the server waits for the queued mail
// (at most the shutdown's 10 seconds).
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
// algorithm. The server warns on start-up when a kept file is readable by
// group or others.
//
// # Switching -alg
//
// On SQLite, restarting with another -alg logs nobody out. The server
// signs with the key of -alg and keeps every other key it holds for the
// database (the secret's HS256 key, ID "", which verifies tokens without
// a kid, and the key in each existing <db>.jwt-<alg>.pem) as a
// verify-only key for one token lifetime (1 hour) after it stopped
// signing; after that, no token it signed can still be valid, and the
// server drops it, from the running service too. <db>.jwt-state.json
// (mode 0600) records which key signs and when each other key stopped
// signing, taken to be the first start with another -alg. A key the file
// does not record, or every key if the file is missing, counts as having
// stopped at this start. Switching back to an algorithm reuses its kept
// key. A key file that no longer verifies may be deleted (the server says
// so on start-up); deleting one earlier ends its tokens at once. The
// secret stays: it keys the login throttle whatever -alg is.
//
// With a database URL the server keeps no files: it signs and verifies
// with the key of -alg alone, so switching -alg makes the previous key's
// tokens invalid at once. So does switching away from a key given in
// AUTH_JWT_PRIVATE_KEY, which the server does not keep. A running service
// can rotate keys without logging anyone out: token.KeySet documents how.
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
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/token"
	"github.com/gatehouse-go/gatehouse/httpauth"
	"github.com/gatehouse-go/gatehouse/mail/smtpmail"
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
	if err := run(ctx, os.Args[1:], os.Getenv, time.Now, log, nil); err != nil {
		log.Error("server stopped", "error", err)
		os.Exit(1)
	}
}

// run starts the server and blocks until ctx is done, then shuts down
// gracefully. now is the clock of the service and of key rotation. ready,
// if not nil, is called with the listening address once requests can be
// served.
func run(ctx context.Context, args []string, getenv func(string) string, now func() time.Time, log *slog.Logger, ready func(addr string)) error {
	flags := flag.NewFlagSet("server", flag.ContinueOnError)
	addr := flags.String("addr", ":8080", "`address` to listen on")
	dbPath := flags.String("db", "gatehouse.db", "SQLite database `file` (created if missing), or a postgres:// or mysql:// URL")
	alg := flags.String("alg", "HS256", "token signing `algorithm`: HS256, EdDSA, ES256 or RS256")
	refresh := flags.Bool("refresh", false, "issue refresh tokens (POST /api/user/refresh, /logout, /logout-all) and check access tokens against revocations")
	smtpURL := flags.String("smtp", "", "send mail through this SMTP server: smtp://[user:password@]host:port (STARTTLS) or smtps://... (implicit TLS); without it, mail is written to the log")
	mailFrom := flags.String("mail-from", "", "the sender `address` of mail, required with -smtp")
	publicURL := flags.String("public-url", "http://localhost:8080", "the base `URL` of the links in mail")
	cookies := flags.Bool("cookies", true, "cookie mode: tokens also in HttpOnly cookies, which the middleware reads without an Authorization header; cross-origin state-changing requests refused")
	if err := flags.Parse(args); err != nil {
		return err
	}
	mailer, err := newMailer(*smtpURL, *mailFrom, log)
	if err != nil {
		return err
	}
	if *alg != "HS256" && newPrivateKey[*alg] == nil {
		return fmt.Errorf("-alg %q: want HS256, EdDSA, ES256 or RS256", *alg)
	}
	secret, err := loadSecret(getenv, *dbPath, log)
	if err != nil {
		return err
	}
	keys, retiring, err := loadKeys(getenv, *alg, *dbPath, secret, now(), log)
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
		TokenTTL:        tokenTTL,
		Logger:          log,
		RefreshTokens:   *refresh,
		CheckRevocation: *refresh,
		Mailer:          mailer,
		PublicURL:       *publicURL,
		Now:             now,
	})
	if err != nil {
		return err
	}
	if len(retiring) > 0 {
		tick := time.NewTicker(time.Minute)
		retireCtx, stopRetiring := context.WithCancel(ctx)
		retired := make(chan struct{})
		go func() {
			defer close(retired)
			retireKeys(retireCtx, keys, retiring, tick.C, now, log)
		}()
		defer func() { stopRetiring(); tick.Stop(); <-retired }()
	}
	// Pruning is stopped, and waited for, before the database is closed.
	pruneTick := time.NewTicker(time.Hour)
	pruneCtx, stopPruning := context.WithCancel(ctx)
	pruned := make(chan struct{})
	go func() {
		defer close(pruned)
		pruneSessions(pruneCtx, svc, pruneTick.C, log)
	}()
	defer func() { stopPruning(); pruneTick.Stop(); <-pruned }()
	h, err := httpauth.New(svc, httpauth.Config{Logger: log, Cookies: *cookies})
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	h.Mount(mux) // GET /api/user/me among the rest
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
	log.Info("listening", "addr", ln.Addr().String(), "db", redactDSN(*dbPath), "cookies", *cookies)
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
	// The queued mail may need the database: it is closed after this.
	return errors.Join(srv.Shutdown(shutdownCtx), svc.Shutdown(shutdownCtx))
}

// newMailer returns the Mailer of -smtp and -mail-from: an SMTP sender,
// or without -smtp the development sender writing to log.
func newMailer(smtpURL, from string, log *slog.Logger) (auth.Mailer, error) {
	if smtpURL == "" {
		if from != "" {
			log.Warn("-mail-from is ignored without -smtp")
		}
		log.Warn("no -smtp: mail is not sent but written to this log, links included; for development only")
		return auth.LogMailer{Logger: log}, nil
	}
	cfg, err := smtpmail.ParseURL(smtpURL)
	if err != nil {
		return nil, fmt.Errorf("-smtp: %w", err)
	}
	if from == "" {
		return nil, errors.New("-smtp needs -mail-from, the sender address of the mail")
	}
	cfg.From = from
	sender, err := smtpmail.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("-smtp, -mail-from: %w", err)
	}
	log.Info("sending mail over SMTP", "host", cfg.Host, "port", cfg.Port, "tls", cfg.TLS.String(), "auth", cfg.Username != "", "from", from)
	return sender, nil
}

// pruneSessions deletes the expired refresh tokens and one-time tokens
// at every tick until ctx is done.
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
			log.Warn("pruning expired tokens failed; will try again at the next run", "error", err)
		case n > 0:
			log.Info("pruned expired tokens", "deleted", n)
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

// tokenTTL is how long the server's access tokens are valid, and so how
// long a key that stopped signing keeps verifying.
const tokenTTL = time.Hour

// loadKeys returns the key set of the service and the keys of it that are
// to be removed once their tokens have expired (see retireKeys).
//
// The active key, which signs, is the one -alg names: for HS256 the secret
// (ID "", so that its tokens carry no kid); otherwise the private key from
// AUTH_JWT_PRIVATE_KEY or, on SQLite, from the file kept next to the
// database (see privateKeyPEM), whose type must match alg.
//
// On SQLite the set also holds, as verify-only keys, the other keys the
// server keeps (the secret's HS256 key and each existing
// <db>.jwt-<alg>.pem) while tokens they signed can still be valid: until
// tokenTTL after they stopped signing, as the key state file records (see
// recordKeys).
func loadKeys(getenv func(string) string, alg, db string, secret []byte, now time.Time, log *slog.Logger) (*token.KeySet, []retiringKey, error) {
	active, err := activeKey(getenv, alg, db, secret, log)
	if err != nil {
		return nil, nil, err
	}
	log.Info("signing tokens", "alg", alg, "kid", active.ID())
	if dbURL(db) {
		set, err := token.NewKeySet(active)
		return set, nil, err
	}
	kept, err := otherKeys(db, secret, active)
	if err != nil {
		return nil, nil, err
	}
	retired, err := recordKeys(stateFile(db), active, kept, now)
	if err != nil {
		return nil, nil, err
	}
	set := []*token.Key{active}
	var retiring []retiringKey
	for _, k := range kept {
		until := retired[k.key.ID()].Add(tokenTTL)
		if !now.Before(until) {
			if k.file != "" {
				log.Info("key file no longer verifies tokens: every token it signed has expired; it may be deleted",
					"file", k.file, "alg", k.key.Algorithm(), "kid", k.key.ID())
			}
			continue
		}
		log.Info("a previous signing key verifies the tokens it signed until they expire",
			"alg", k.key.Algorithm(), "kid", k.key.ID(), "until", until.UTC().Format(time.RFC3339))
		set = append(set, k.key)
		retiring = append(retiring, retiringKey{id: k.key.ID(), until: until})
	}
	ks, err := token.NewKeySet(set...)
	return ks, retiring, err
}

// activeKey returns the key that signs tokens for alg (see loadKeys).
func activeKey(getenv func(string) string, alg, db string, secret []byte, log *slog.Logger) (*token.Key, error) {
	if alg == "HS256" {
		if getenv("AUTH_JWT_PRIVATE_KEY") != "" {
			log.Warn("AUTH_JWT_PRIVATE_KEY is ignored with -alg HS256")
		}
		return token.NewKey("", secret)
	}
	data, source, err := privateKeyPEM(getenv, alg, db, log)
	if err != nil {
		return nil, err
	}
	return parsePrivateKey(data, source, alg, "-alg is "+alg)
}

// parsePrivateKey parses the PEM private key for alg that source (a file
// or variable name) holds; why says, in messages, why alg is expected.
func parsePrivateKey(data []byte, source, alg, why string) (*token.Key, error) {
	key, err := token.ParseKeyPEM("", data)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s: %w", source, err)
	case key.Algorithm() != alg:
		return nil, fmt.Errorf("%s holds an %s key, but %s", source, key.Algorithm(), why)
	case !key.CanSign():
		return nil, fmt.Errorf("%s holds a public key; the server needs the private key to sign tokens", source)
	}
	return key, nil
}

// An otherKey is a key the server keeps for a SQLite database, and the file
// it is kept in ("" for the secret, which the server always needs).
type otherKey struct {
	key  *token.Key
	file string
}

// otherKeys returns the keys kept for the SQLite database db other than
// active: the secret's HS256 key, and the key of each <db>.jwt-<alg>.pem
// that exists.
func otherKeys(db string, secret []byte, active *token.Key) ([]otherKey, error) {
	var kept []otherKey
	if active.Algorithm() != "HS256" {
		k, err := token.NewKey("", secret)
		if err != nil {
			return nil, err
		}
		kept = append(kept, otherKey{key: k})
	}
	for _, alg := range slices.Sorted(maps.Keys(newPrivateKey)) {
		path := keyFile(db, alg)
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("reading %s signing key: %w", alg, err)
		}
		k, err := parsePrivateKey(data, path, alg, "its name says "+alg)
		if err != nil {
			return nil, err
		}
		if k.ID() != active.ID() {
			kept = append(kept, otherKey{key: k, file: path})
		}
	}
	return kept, nil
}

// stateFile names the file that records, next to the SQLite database db,
// which key signs and when each other key stopped signing.
func stateFile(db string) string { return db + ".jwt-state.json" }

// keyState is the content of the key state file. Times are those of the
// server's clock at the start that made the change.
type keyState struct {
	Active  string               `json:"active"`  // ID of the key that signs; "" is the secret's
	Retired map[string]time.Time `json:"retired"` // ID of a key that signed before → when it stopped
}

// recordKeys updates the key state file path for a start at now whose
// active key is active and whose other kept keys are kept, and returns
// when each kept key stopped signing. The previously active key stops
// now. So does a kept key the file does not know, and every kept key if
// there is no file yet (one written before it, say): as if each had
// signed until now, which keeps its tokens valid. Entries are never
// dropped, so that a key file left in place stays retired.
func recordKeys(path string, active *token.Key, kept []otherKey, now time.Time) (map[string]time.Time, error) {
	now = now.UTC()
	st := keyState{Retired: map[string]time.Time{}}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &st); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if st.Retired == nil {
			st.Retired = map[string]time.Time{}
		}
		if st.Active != active.ID() {
			st.Retired[st.Active] = now
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("reading the key state: %w", err)
	}
	delete(st.Retired, active.ID())
	st.Active = active.ID()
	for _, k := range kept {
		if _, ok := st.Retired[k.key.ID()]; !ok {
			st.Retired[k.key.ID()] = now
		}
	}
	out, err := json.MarshalIndent(st, "", "\t")
	if err != nil {
		return nil, err
	}
	if out = append(out, '\n'); !bytes.Equal(out, data) {
		if err := replaceFile(path, out); err != nil {
			return nil, fmt.Errorf("saving the key state: %w", err)
		}
	}
	return st.Retired, nil
}

// replaceFile writes data to path, mode 0600, through a temporary file
// renamed over it, so that path always holds a whole version.
func replaceFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

// A retiringKey is a verify-only key of the set, to be removed once every
// token it signed has expired.
type retiringKey struct {
	id    string
	until time.Time
}

// retireKeys removes each key of retiring from keys at the first tick at
// which now() has reached its until, and returns once none is left or ctx
// is done.
func retireKeys(ctx context.Context, keys *token.KeySet, retiring []retiringKey, tick <-chan time.Time, now func() time.Time, log *slog.Logger) {
	for len(retiring) > 0 {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
		t := now()
		retiring = slices.DeleteFunc(retiring, func(r retiringKey) bool {
			if t.Before(r.until) {
				return false
			}
			if err := keys.Remove(r.id); err != nil {
				log.Warn("removing a previous signing key failed", "kid", r.id, "error", err)
			} else {
				log.Info("a previous signing key no longer verifies: every token it signed has expired", "kid", r.id)
			}
			return true
		})
	}
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
