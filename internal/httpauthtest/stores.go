package httpauthtest

import (
	"context"
	"database/sql"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

// Store is a store the scenarios run on.
type Store struct {
	Name string
	// Open returns a fresh, empty store with its tables made, and for a
	// SQL store its database and the SQL placeholder of its first
	// parameter ("?" or "$1"); nil and "" for a store without SQL. It may
	// skip t (a database without a DSN) or fail it.
	Open func(t *testing.T) (store auth.UserStore, db *sql.DB, ph string)
}

// SQLStore is a SQL user store: a UserStore whose tables Migrate makes.
type SQLStore interface {
	auth.UserStore
	Migrate(ctx context.Context) error
}

// Memory is the memory store (memstore).
var Memory = Store{Name: "memory", Open: func(*testing.T) (auth.UserStore, *sql.DB, string) {
	return memstore.New(), nil, ""
}}

// openStore opens a fresh store of st.
func openStore(t *testing.T, st Store) auth.UserStore {
	t.Helper()
	store, _, _ := st.Open(t)
	return store
}
