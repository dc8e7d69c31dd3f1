package sqlitestore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/store/sqlitestore"
)

func Example() {
	dir, err := os.MkdirTemp("", "sqlitestore-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// The application opens the database with the driver of its choice.
	dsn := "file:" + filepath.ToSlash(filepath.Join(dir, "app.db")) +
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	ctx := context.Background()
	store := sqlitestore.New(db)
	if err := store.Migrate(ctx); err != nil { // safe on every start
		log.Fatal(err)
	}

	// Normally the store is handed to auth.New; here it is used directly.
	alice := auth.User{
		ID:           "5ef5b4d2b56aad8240db229c00000000",
		Email:        "alice@example.com",
		Name:         "Alice",
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
		CreatedAt:    time.Date(2024, 5, 17, 13, 45, 30, 0, time.UTC),
	}
	if err := store.CreateUser(ctx, alice); err != nil {
		log.Fatal(err)
	}
	u, err := store.UserByEmail(ctx, "alice@example.com")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u.ID, u.Name, u.CreatedAt)

	for _, try := range []func() error{
		func() error {
			again := alice
			again.ID = "another-id"
			return store.CreateUser(ctx, again)
		},
		func() error {
			_, err := store.UserByEmail(ctx, "bob@example.com")
			return err
		},
	} {
		switch err := try(); {
		case errors.Is(err, auth.ErrDuplicateEmail):
			fmt.Println("email already registered")
		case errors.Is(err, auth.ErrNotFound):
			fmt.Println("no such user")
		case err != nil:
			fmt.Println("store failure:", err)
		}
	}
	// Output:
	// 5ef5b4d2b56aad8240db229c00000000 Alice 2024-05-17 13:45:30 +0000 UTC
	// email already registered
	// no such user
}
