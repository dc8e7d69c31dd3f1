package sqlitestore_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/store/sqlitestore"
)

func tokenHash(n int) string { return fmt.Sprintf("%064x", n) }
func familyID(n int) string  { return fmt.Sprintf("%032x", n) }

// sessionUser is the user of the tokens of the tests below that need
// only one: CreateRefreshToken refuses a token of a user not stored.
var sessionUser = auth.User{ID: "u", Email: "u@example.com", Name: "U", PasswordHash: "h", CreatedAt: time.Unix(1e9, 0).UTC()}

// TestSessionsStorageFormat checks the session columns as the package
// documentation shows them: times as INTEGER unix microseconds, NULL
// while a token is unused or its family live.
func TestSessionsStorageFormat(t *testing.T) {
	ctx := t.Context()
	db := openDB(t, filepath.Join(t.TempDir(), "auth.db"))
	s := sqlitestore.New(db)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, sessionUser); err != nil {
		t.Fatal(err)
	}
	ist := time.FixedZone("IST", 5*3600+1800)
	at := time.Date(2024, 5, 17, 19, 15, 30, 654321987, ist)
	tok := auth.RefreshToken{Hash: tokenHash(1), Family: familyID(1), UserID: sessionUser.ID, IssuedAt: at, ExpiresAt: at.Add(time.Hour)}
	if err := s.CreateRefreshToken(ctx, tok, 0); err != nil {
		t.Fatal(err)
	}
	var issuedType, usedType, revokedType string
	var issued, expires, sessionExpires int64
	err := db.QueryRowContext(ctx, `SELECT typeof(t.issued_at), t.issued_at, t.expires_at, typeof(t.used_at), s.expires_at, typeof(s.revoked_at)
		FROM auth_refresh_tokens t JOIN auth_sessions s ON s.id = t.family_id`).Scan(&issuedType, &issued, &expires, &usedType, &sessionExpires, &revokedType)
	if err != nil {
		t.Fatal(err)
	}
	if issuedType != "integer" || issued != at.UnixMicro() || expires != at.Add(time.Hour).UnixMicro() || sessionExpires != expires {
		t.Errorf("issued_at %s %d, expires_at %d, session expires_at %d; want integer %d, %d, %d (unix microseconds)",
			issuedType, issued, expires, sessionExpires, at.UnixMicro(), at.Add(time.Hour).UnixMicro(), at.Add(time.Hour).UnixMicro())
	}
	if usedType != "null" || revokedType != "null" {
		t.Errorf("used_at, revoked_at of an unused token of a live family are %s, %s; want null, null", usedType, revokedType)
	}
	var idx int
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN
		('auth_sessions_user_id', 'auth_sessions_expires_at', 'auth_refresh_tokens_expires_at')`).Scan(&idx)
	if err != nil || idx != 3 {
		t.Errorf("%d of the 3 session indexes found (%v)", idx, err)
	}
}

// TestMigrateAddsSessionTables migrates a database that has only the
// tables of an earlier version, with a user in it: Migrate adds the
// session tables and keeps the user.
func TestMigrateAddsSessionTables(t *testing.T) {
	ctx := t.Context()
	db := openDB(t, filepath.Join(t.TempDir(), "auth.db"))
	for _, ddl := range []string{sqlitestore.Schema, sqlitestore.AttemptsSchema} {
		if _, err := db.ExecContext(ctx, ddl); err != nil {
			t.Fatal(err)
		}
	}
	s := sqlitestore.New(db)
	u := auth.User{ID: "id1", Email: "a@example.com", Name: "A", PasswordHash: "h", CreatedAt: time.Unix(1e9, 0).UTC()}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	tok := auth.RefreshToken{Hash: tokenHash(1), Family: familyID(1), UserID: u.ID, IssuedAt: u.CreatedAt, ExpiresAt: u.CreatedAt.Add(time.Hour)}
	if err := s.CreateRefreshToken(ctx, tok, 0); err == nil {
		t.Fatal("CreateRefreshToken before Migrate = nil; want an error (no table)")
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRefreshToken(ctx, tok, 0); err != nil {
		t.Errorf("CreateRefreshToken after Migrate = %v", err)
	}
	if got, err := s.UserByID(ctx, u.ID); err != nil || got != u {
		t.Errorf("UserByID after Migrate = %+v, %v; want %+v", got, err, u)
	}
}

// TestSessionsTwoStores uses one token through two Stores on one file,
// each with its own pool, as two processes would, all at once: the
// Stores' own write queues do not order them, SQLite's lock (and the busy
// timeout) does. Exactly one call sees the token unused, and the other
// the winner's UsedAt.
func TestSessionsTwoStores(t *testing.T) {
	const each, rounds = 10, 5
	path := filepath.Join(t.TempDir(), "auth.db")
	stores := []*sqlitestore.Store{sqlitestore.New(openDB(t, path)), sqlitestore.New(openDB(t, path))}
	for _, s := range stores {
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if err := stores[0].CreateUser(t.Context(), sessionUser); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)
	n := len(stores) * each
	for round := range rounds {
		hash := tokenHash(round)
		if err := stores[0].CreateRefreshToken(t.Context(), auth.RefreshToken{
			Hash: hash, Family: familyID(round), UserID: sessionUser.ID, IssuedAt: base, ExpiresAt: base.Add(time.Hour),
		}, 0); err != nil {
			t.Fatal(err)
		}
		got := make([]auth.RefreshToken, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				got[i], errs[i] = stores[i%len(stores)].UseRefreshToken(t.Context(), hash, base.Add(time.Duration(i+1)*time.Second))
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err != nil:
				t.Fatalf("round %d: concurrent UseRefreshToken #%d = %v", round, i, err)
			case got[i].UsedAt.IsZero() && winner >= 0:
				t.Fatalf("round %d: UseRefreshToken #%d and #%d both saw the token unused", round, winner, i)
			case got[i].UsedAt.IsZero():
				winner = i
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no UseRefreshToken saw the token unused", round)
		}
		wantUsed := base.Add(time.Duration(winner+1) * time.Second)
		for i, tok := range got {
			if i != winner && !tok.UsedAt.Equal(wantUsed) {
				t.Errorf("round %d: UseRefreshToken #%d, which lost to #%d, saw UsedAt %v; want the winner's %v", round, i, winner, tok.UsedAt, wantUsed)
			}
		}
	}
}
