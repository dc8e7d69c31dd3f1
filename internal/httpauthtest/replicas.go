package httpauthtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/throttle"
	"github.com/gatehouse-go/gatehouse/internal/dbtest"
)

// replicaConfig is the Service configuration of the replicas of
// Replicas and DatabaseFault.
func replicaConfig() auth.Config {
	// Generous HashWait: this is about the database, not hashing capacity
	// (argon2 under -race is slow). No per-account throttling either:
	// DatabaseFault logs one account in over and over while the
	// database fails, and attempts that fail count towards it (the
	// replicas' shared counters have tests in throttle.go).
	return auth.Config{HashWait: time.Minute, LoginThrottle: throttle.LoginConfig{BackoffAfter: -1, MaxClientFailures: -1, MaxAccountFailures: -1}}
}

// pgReplicas starts n instances of the HTTP service on one fresh
// PostgreSQL schema, each with a Service of cfg: each with its own
// connection pool, Service and listener, as separate processes would
// have. Every pool's connections carry application_name, so a test can
// find (and kill) exactly them.
func pgReplicas(t *testing.T, pg func(*sql.DB) SQLStore, n int, cfg auth.Config) (servers []*App, admin *sql.DB, appName string) {
	t.Helper()
	dsn := dbtest.NewPostgresDSN(t)
	appName = "gatehouse_replica_" + rand.Text()
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		q := u.Query()
		q.Set("application_name", appName)
		u.RawQuery = q.Encode()
		dsn = u.String()
	} else {
		dsn += " application_name=" + appName
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		db := dbtest.Open(t, dbtest.PostgresDriver, dsn)
		store := pg(db)
		servers = append(servers, NewApp(t, store, cfg))
		wg.Go(func() { errs[i] = store.Migrate(context.Background()) }) // replicas start at once
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: Migrate: %v", i, err)
		}
	}
	return servers, dbtest.Open(t, dbtest.PostgresDriver, dsn), appName
}

// Replicas runs three instances of the service on one PostgreSQL
// database and uses them as one.
func Replicas(t *testing.T, pg func(*sql.DB) SQLStore) {
	r, db, _ := pgReplicas(t, pg, 3, replicaConfig())

	up := r[0].Signup(t, "Ada", "ada@example.com", Password)
	resp := r[1].Post(t, LoginPath, `{"email":"ada@example.com","password":"`+Password+`"}`)
	if resp.Status != 200 {
		t.Fatalf("login on the second replica: %d %s", resp.Status, resp.Body)
	}
	in := DecodeSession(t, resp.Body)
	if in["userId"] != up["userId"] {
		t.Fatalf("login on the second replica found user %s, signed up as %s", in["userId"], up["userId"])
	}
	resp = r[2].Do(t, "GET", ProtectedPath, "", "", "Authorization", "Bearer "+in["token"])
	if resp.Status != 200 || !strings.Contains(resp.Body, up["userId"]) {
		t.Fatalf("me on the third replica: %d %s", resp.Status, resp.Body)
	}

	// 20 concurrent sign-ups of one email (in several spellings), spread
	// over the three replicas: exactly one wins.
	const n = 20
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		email := []string{"bob@example.com", "BOB@example.com", " Bob@Example.com "}[i%3]
		body := fmt.Sprintf(`{"name":"Bob %d","email":%q,"password":%q}`, i, email, Password)
		wg.Go(func() { statuses[i] = r[i%3].Post(t, SignupPath, body).Status })
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[200] != 1 || count[409] != n-1 {
		t.Errorf("statuses %v: want exactly one 200 and %d 409s", count, n-1)
	}
	if rows := rowsFor(t, db, "bob@example.com"); rows != 1 {
		t.Errorf("%d rows for bob@example.com, want 1", rows)
	}
}

// DatabaseFault kills the service's database connections while
// requests are in flight. Requests may fail, but only with a clean 5xx
// problem body; nothing half-made is stored; and the service recovers
// without a restart.
func DatabaseFault(t *testing.T, pg func(*sql.DB) SQLStore) {
	r, db, appName := pgReplicas(t, pg, 1, replicaConfig())
	s := r[0]
	s.Signup(t, "Ada", "ada@example.com", Password)

	type result struct {
		email string
		resp  Response
	}
	const workers, perWorker = 4, 10
	results := make(chan result, workers*perWorker)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range workers {
		wg.Go(func() {
			<-start
			for i := range perWorker {
				email := fmt.Sprintf("user%d-%d@example.com", w, i)
				var resp Response
				if i%2 == 0 {
					resp = s.Post(t, SignupPath, fmt.Sprintf(`{"name":"U","email":%q,"password":%q}`, email, Password))
				} else {
					resp = s.Post(t, LoginPath, `{"email":"ada@example.com","password":"`+Password+`"}`)
					email = ""
				}
				results <- result{email, resp}
			}
		})
	}
	close(start)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	killed := 0
	for running := true; running; {
		// Kill every connection of the service's pool.
		var n int
		err := db.QueryRow(`SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE application_name = $1 AND pid <> pg_backend_pid()) k`, appName).Scan(&n)
		if err != nil {
			t.Fatalf("terminating backends: %v", err)
		}
		killed += n
		select {
		case <-done:
			running = false
		case <-time.After(20 * time.Millisecond): // pacing, not an assertion
		}
	}
	close(results)
	if killed == 0 {
		t.Fatal("no backend was terminated: the test did not exercise a fault")
	}

	failed := 0
	for res := range results {
		switch res.resp.Status {
		case 200:
			if res.email != "" && rowsFor(t, db, res.email) != 1 {
				t.Errorf("sign-up of %s answered 200 but is not stored", res.email)
			}
		case 500, 503:
			failed++
			p := ProblemBody(t, res.resp)
			if p["detail"] != "internal error" && p["detail"] != "too busy, retry later" {
				t.Errorf("5xx body %s", res.resp.Body)
			}
			for _, leak := range []string{"pgx", "SQLSTATE", "terminat", "connection", "FATAL"} {
				if strings.Contains(res.resp.Body, leak) {
					t.Errorf("driver text %q in response %s", leak, res.resp.Body)
				}
			}
		default:
			t.Errorf("status %d during the fault: %s", res.resp.Status, res.resp.Body)
		}
	}
	t.Logf("%d backends terminated; %d of %d requests failed with 5xx", killed, failed, workers*perWorker)

	// The service answers normally again, without a restart. The pool may
	// still hold connections killed by the last round, idle since; each
	// fails one request (with a clean 500) and is replaced. After that,
	// every request succeeds.
	var up map[string]string
	for attempt := 0; up == nil; attempt++ {
		if attempt == 10 {
			t.Fatal("the service did not recover within 10 requests")
		}
		resp := s.Post(t, SignupPath, `{"name":"After","email":"after@example.com","password":"`+Password+`"}`)
		switch resp.Status {
		case 200:
			up = DecodeSession(t, resp.Body)
		case 500:
			ProblemBody(t, resp)
		default:
			t.Fatalf("after the fault: signup %d %s", resp.Status, resp.Body)
		}
	}
	for range 5 {
		if resp := s.Post(t, LoginPath, `{"email":"after@example.com","password":"`+Password+`"}`); resp.Status != 200 {
			t.Fatalf("after recovery: login %d %s", resp.Status, resp.Body)
		}
		resp := s.Do(t, "GET", ProtectedPath, "", "", "Authorization", "Bearer "+up["token"])
		if resp.Status != 200 || !strings.Contains(resp.Body, "after@example.com") {
			t.Fatalf("after recovery: me %d %s", resp.Status, resp.Body)
		}
	}

	// Every stored user is whole: its hash verifies with the password used.
	rows, err := db.Query(`SELECT email FROM auth_users`)
	if err != nil {
		t.Fatal(err)
	}
	var emails []string
	for rows.Next() {
		var e string
		rows.Scan(&e)
		emails = append(emails, e)
	}
	rows.Close()
	for _, e := range emails {
		if resp := s.Post(t, LoginPath, fmt.Sprintf(`{"email":%q,"password":%q}`, e, Password)); resp.Status != 200 {
			t.Errorf("stored user %s cannot log in after the fault: %d %s", e, resp.Status, resp.Body)
		}
	}
}

// rowsFor counts the rows stored for email.
func rowsFor(t *testing.T, db *sql.DB, email string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM auth_users WHERE email = $1`, email).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
