package e2e

import (
	"context"
	"log/slog"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/dbtest"
	"github.com/gatehouse-go/gatehouse/store/memstore"
	"github.com/gatehouse-go/gatehouse/store/mysqlstore"
	"github.com/gatehouse-go/gatehouse/store/pgstore"
	"github.com/gatehouse-go/gatehouse/store/sqlitestore"
	_ "modernc.org/sqlite"
)

// BenchmarkSignup measures sign-up throughput through auth.Service on
// every shipped store, with the default argon2id parameters, as a loaded
// server sees it: 4×GOMAXPROCS concurrent callers sharing the GOMAXPROCS
// hashing slots, so that one caller's database round trip overlaps
// another's hash. Sign-up should be bound by hashing: compare each store's
// ns/op with memory's from the same run.
//
//	GATEHOUSE_TEST_POSTGRES_DSN=... GATEHOUSE_TEST_MYSQL_DSN=... \
//	  go test -run '^$' -bench Signup -benchtime 100x ./internal/e2e
//
// Repeat whole invocations rather than use -count, so that the stores are
// interleaved as the machine's speed drifts (BENCHMARKS.md has the loop).
func BenchmarkSignup(b *testing.B) {
	migrated := func(b *testing.B, s interface {
		auth.UserStore
		Migrate(context.Context) error
	}) auth.UserStore {
		if err := s.Migrate(context.Background()); err != nil {
			b.Fatal(err)
		}
		return s
	}
	stores := []struct {
		name string
		new  func(b *testing.B) auth.UserStore
	}{
		{"memory", func(*testing.B) auth.UserStore { return memstore.New() }},
		{"sqlite", func(b *testing.B) auth.UserStore {
			db := dbtest.Open(b, "sqlite", "file:"+filepath.Join(b.TempDir(), "bench.db")+
				"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
			return migrated(b, sqlitestore.New(db))
		}},
		{"postgres", func(b *testing.B) auth.UserStore { return migrated(b, pgstore.New(dbtest.NewPostgres(b))) }},
		{"mysql", func(b *testing.B) auth.UserStore { return migrated(b, mysqlstore.New(dbtest.NewMySQL(b))) }},
	}
	for _, s := range stores {
		b.Run("store="+s.name, func(b *testing.B) {
			svc, err := auth.New(s.new(b), auth.Config{
				Secret:   []byte("benchmark secret, at least 32 bytes long"),
				HashWait: time.Hour, // measure throughput, never shed load
				Logger:   slog.New(slog.DiscardHandler),
			})
			if err != nil {
				b.Fatal(err)
			}
			var n atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					email := "user" + strconv.FormatInt(n.Add(1), 10) + "@example.com"
					if _, err := svc.Signup(context.Background(), auth.NewUser{
						Name: "Bench", Email: email, Password: "correct horse battery staple",
					}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
