package pgstore_test

import (
	"context"
	"database/sql"
	"log"
	"os"

	_ "github.com/jackc/pgx/v5/stdlib" // the application's choice of driver

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/store/pgstore"
)

// The application opens the database with the driver of its choice, and
// every replica migrates on start. (Not run: it needs a server.)
func Example() {
	ctx := context.Background()
	db, err := sql.Open("pgx", os.Getenv("DATABASE_URL")) // postgres://user@host:5432/app
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	store := pgstore.New(db)
	if err := store.Migrate(ctx); err != nil { // safe on every start, on every replica at once
		log.Fatal(err)
	}
	svc, err := auth.New(store, auth.Config{Secret: []byte(os.Getenv("AUTH_JWT_SECRET"))})
	if err != nil {
		log.Fatal(err)
	}
	_ = svc // hand svc to httpauth, or call svc.Signup and svc.Login
}
