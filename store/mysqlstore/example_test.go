package mysqlstore_test

import (
	"context"
	"database/sql"
	"log"
	"os"

	_ "github.com/go-sql-driver/mysql" // the application's choice of driver

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/store/mysqlstore"
)

// The application opens the database with the driver of its choice, and
// every replica migrates on start. (Not run: it needs a server.)
func Example() {
	ctx := context.Background()
	db, err := sql.Open("mysql", os.Getenv("DATABASE_DSN")) // user:password@tcp(host:3306)/app
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	store := mysqlstore.New(db)
	if err := store.Migrate(ctx); err != nil { // safe on every start, on every replica at once
		log.Fatal(err)
	}
	svc, err := auth.New(store, auth.Config{Secret: []byte(os.Getenv("AUTH_JWT_SECRET"))})
	if err != nil {
		log.Fatal(err)
	}
	_ = svc // hand svc to httpauth, or call svc.Signup and svc.Login
}
