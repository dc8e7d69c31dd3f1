package httpauth_test

// Key rotation under load, over real listeners: while clients send a
// steady stream of requests, with tokens issued before the rotation and
// tokens issued fresh, the signing key is rotated, and no request fails.
// Then the same across two replicas that each hold their own KeySet, with
// the documented three steps, and the failure that the three steps avoid.
//
// Nothing here sleeps or measures time: the rotation's steps are taken
// once the stream has reached given points, and the stream waits for
// them at others (see rotationStream).

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/token"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

// rotationStream is the request stream of a rotation test, and the
// rotation's steps taken while it runs.
//
// One goroutine per account in emails runs (len(steps)+1)*perSegment
// iterations, in segments of perSegment. Iteration i of client c presents
// each of its tokens in old to every replica, logs in on replica
// (c+i) mod len(replicas), and presents the fresh token to every replica;
// every answer but 200 is a failure. A client starts segment s only once
// steps[:s] have been taken; step s is taken, in another goroutine, as soon
// as a login of segment s has come back from every replica. So each step
// falls amid the stream, with the other clients' requests in flight, and
// every segment holds, for each replica, logins sent after the step before
// it and answered before the step after it began.
//
// Each client logs in to its own account, so that no account ever has two
// logins in flight (the per-account throttle counts attempts in flight);
// every login succeeds, so no throttle counts any.
type rotationStream struct {
	replicas   []*keyApp
	steps      []func() error
	emails     []string   // one account per client
	old        [][]string // per client: tokens issued before the stream
	perSegment int

	phase    atomic.Int32 // 2k once steps[:k] are taken; 2k+1 while step k is under way
	mu       sync.Mutex
	seen     []map[int]bool  // seen[s]: the replicas a login of segment s came back from
	ready    []chan struct{} // ready[s] is closed once seen[s] holds every replica
	failures []string
	logins   []streamLogin
	requests int
}

// streamLogin is a login of the stream, and the phase of the rotation when
// it was sent and when its answer came back.
type streamLogin struct {
	client, replica int
	token           string
	sent, answered  int32
}

// run runs the stream to its end and fails t if a step failed.
func (st *rotationStream) run(t *testing.T) {
	t.Helper()
	n := len(st.steps)
	st.seen = make([]map[int]bool, n+1)
	st.ready = make([]chan struct{}, n+1)
	taken := make([]chan struct{}, n+1) // taken[s] is closed once steps[:s] are taken
	for s := range n + 1 {
		st.seen[s] = map[int]bool{}
		st.ready[s] = make(chan struct{})
		taken[s] = make(chan struct{})
	}
	close(taken[0])
	stepErrs := make([]error, n)
	var wg sync.WaitGroup
	wg.Go(func() {
		for k, step := range st.steps {
			<-st.ready[k]
			st.phase.Store(int32(2*k + 1))
			stepErrs[k] = step()
			st.phase.Store(int32(2*k + 2))
			close(taken[k+1])
		}
	})
	for c := range st.emails {
		wg.Go(func() {
			for i := range (n + 1) * st.perSegment {
				s := i / st.perSegment
				<-taken[s]
				st.iteration(c, i, s)
			}
		})
	}
	wg.Wait()
	for k, err := range stepErrs {
		if err != nil {
			t.Fatalf("step %d of the rotation: %v", k+1, err)
		}
	}
}

func (st *rotationStream) iteration(c, i, s int) {
	for j, tok := range st.old[c] {
		for r := range st.replicas {
			st.present(r, tok, fmt.Sprintf("client %d, iteration %d: old token %d", c, i, j))
		}
	}
	r := (c + i) % len(st.replicas)
	sent := st.phase.Load()
	resp, err := st.replicas[r].call(http.MethodPost, loginPath, loginBody(st.emails[c], password))
	answered := st.phase.Load()
	st.mu.Lock()
	st.requests++
	if !st.seen[s][r] {
		st.seen[s][r] = true
		if len(st.seen[s]) == len(st.replicas) {
			close(st.ready[s]) // once: seen[s] grows only under mu
		}
	}
	var sess struct{ Token string }
	if err == nil && resp.status == http.StatusOK {
		err = json.Unmarshal([]byte(resp.body), &sess)
	}
	if err != nil || resp.status != http.StatusOK || sess.Token == "" {
		st.failures = append(st.failures, fmt.Sprintf("client %d, iteration %d: login on replica %d: %d %s %v", c, i, r, resp.status, resp.body, err))
		st.mu.Unlock()
		return
	}
	token := sess.Token
	st.logins = append(st.logins, streamLogin{client: c, replica: r, token: token, sent: sent, answered: answered})
	st.mu.Unlock()
	for to := range st.replicas {
		st.present(to, token, fmt.Sprintf("client %d, iteration %d: fresh token from replica %d", c, i, r))
	}
}

// present sends token to replica r's GET /api/user/me; any answer but 200
// is a failure.
func (st *rotationStream) present(r int, token, what string) {
	resp, err := st.replicas[r].call(http.MethodGet, "/api/user/me", "", bearer(token)...)
	st.mu.Lock()
	defer st.mu.Unlock()
	st.requests++
	if err != nil || resp.status != http.StatusOK {
		st.failures = append(st.failures, fmt.Sprintf("%s on replica %d: %d %s %v", what, r, resp.status, resp.body, err))
	}
}

// failed returns the failures so far, and forgets them.
func (st *rotationStream) failed() []string {
	st.mu.Lock()
	defer st.mu.Unlock()
	f := st.failures
	st.failures = nil
	return f
}

// checkSigners checks the key that signed each login's token: replica r
// signs with newKey from step promotedBy[r] on. A login answered before
// that step began must carry oldKey's kid and algorithm, one sent after it
// was taken newKey's, one in between either. Each replica must have signed
// with both (so the rotation happened, and the stream spanned it).
func (st *rotationStream) checkSigners(t *testing.T, oldKey, newKey *token.Key, promotedBy []int) {
	t.Helper()
	olds, news := make([]int, len(st.replicas)), make([]int, len(st.replicas))
	for _, l := range st.logins {
		k := int32(promotedBy[l.replica])
		errOld, errNew := signedBy(l.token, oldKey), signedBy(l.token, newKey)
		switch {
		case l.answered < 2*k+1:
			olds[l.replica]++
			if errOld != nil {
				t.Errorf("client %d: a token answered by replica %d before its promotion of the new key: %v", l.client, l.replica, errOld)
			}
		case l.sent >= 2*k+2:
			news[l.replica]++
			if errNew != nil {
				t.Errorf("client %d: a token issued by replica %d after its promotion of the new key: %v", l.client, l.replica, errNew)
			}
		case errOld != nil && errNew != nil:
			t.Errorf("client %d: a token of replica %d, issued during its promotion, is signed by neither key: %v", l.client, l.replica, errNew)
		}
	}
	for r := range st.replicas {
		if olds[r] == 0 || news[r] == 0 {
			t.Errorf("replica %d: %d logins surely before its promotion, %d surely after; want some of each", r, olds[r], news[r])
		}
	}
}

// TestRotationUnderLoad rotates the signing key of a running service
// while four clients send requests, with the tokens they had before and
// with fresh ones: no request fails; the tokens issued before carry the
// old key's kid and those issued after the new key's; and once the old key
// is removed, the stream's old tokens fail, as they must, so the stream
// would have seen a rotation that broke them. Twice: from one EdDSA key to
// another, and from the secret of a default Service (the seed's HS256
// tokens, no kid) to an EdDSA key, which moves a deployment to asymmetric
// keys without logging anyone out.
func TestRotationUnderLoad(t *testing.T) {
	const clients, perSegment = 4, 4 // 32 logins per case
	for _, tt := range []struct {
		name string
		keys func(t *testing.T) *token.KeySet // nil: the default set, made of Config.Secret
	}{
		{"EdDSA to EdDSA", func(t *testing.T) *token.KeySet { return mustKeySet(t, signingKey(t, "EdDSA", "ed-old")) }},
		{"HS256 secret to EdDSA", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var cfg auth.Config
			if tt.keys != nil {
				cfg.Keys = tt.keys(t)
			}
			a := newKeyApp(t, nil, cfg, nil)
			keys := a.svc.Keys()
			oldKey, newKey := keys.Active(), signingKey(t, "EdDSA", "")
			st := &rotationStream{
				replicas:   []*keyApp{a},
				steps:      []func() error{func() error { return keys.Rotate(newKey) }},
				perSegment: perSegment,
			}
			var seed string
			if oldKey.Algorithm() == "HS256" {
				// A token of the seed's shape signed by another
				// implementation with the same secret: no kid, no sub.
				seed = hs256(`{"alg":"HS256","typ":"JWT"}`, seedPayload(time.Now()), testSecret)
			}
			for c := range clients {
				email := fmt.Sprintf("client%d@example.com", c)
				tok := a.signup(t, fmt.Sprintf("Client %d", c), email, password)["token"]
				if err := signedBy(tok, oldKey); err != nil {
					t.Fatalf("a token issued before the rotation: %v", err)
				}
				st.emails = append(st.emails, email)
				st.old = append(st.old, []string{tok})
				if seed != "" {
					st.old[c] = append(st.old[c], seed)
				}
			}

			st.run(t)
			failures := st.failed()
			t.Logf("%d requests, %d logins, %d failures", st.requests, len(st.logins), len(failures))
			for _, f := range failures {
				t.Error(f)
			}
			if keys.Active() != newKey || oldKey.ID() == newKey.ID() {
				t.Fatalf("active key %q after the rotation, want %q", keys.Active().ID(), newKey.ID())
			}
			st.checkSigners(t, oldKey, newKey, []int{0})

			// Control: with the old key removed, every token it signed
			// fails, through the stream's own count, and the new key's
			// still pass.
			if err := keys.Remove(oldKey.ID()); err != nil {
				t.Fatal(err)
			}
			var oldTokens, newTokens []string
			for _, toks := range st.old {
				oldTokens = append(oldTokens, toks...)
			}
			for _, l := range st.logins {
				if signedBy(l.token, oldKey) == nil {
					oldTokens = append(oldTokens, l.token)
				} else {
					newTokens = append(newTokens, l.token)
				}
			}
			for _, tok := range oldTokens {
				st.present(0, tok, "old token after Remove")
			}
			if got := len(st.failed()); got != len(oldTokens) {
				t.Errorf("after Remove, %d of the %d old tokens failed; want all", got, len(oldTokens))
			}
			var refused string
			checkRefusal(t, a.do(t, http.MethodGet, "/api/user/me", "", "", bearer(oldTokens[0])...), true, &refused)
			for _, tok := range newTokens {
				st.present(0, tok, "new token after Remove")
			}
			if f := st.failed(); len(f) != 0 || len(newTokens) == 0 {
				t.Errorf("after Remove, %d new tokens, failures: %q", len(newTokens), f)
			}
		})
	}
}

// newReplicas starts two replicas of a service on one shared store (a
// fresh memory store if nil), each with its own KeySet holding only the
// key made of oldKey, as two processes that each load the same key file
// would.
func newReplicas(t *testing.T, store auth.UserStore, oldKey ed25519.PrivateKey) (apps []*keyApp, keys []*token.KeySet) {
	t.Helper()
	if store == nil {
		store = memstore.New()
	}
	for range 2 {
		ks := mustKeySet(t, mustKey(t, "", oldKey)) // named by its thumbprint: alike on both
		apps = append(apps, newKeyApp(t, store, auth.Config{Keys: ks}, nil))
		keys = append(keys, ks)
	}
	return apps, keys
}

func newEd25519(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestRotationReplicas rotates the key of two replicas in the documented
// three steps (the third, Remove, is for after the tokens' lifetime) while
// clients alternate between them, presenting every token to both: Add the
// new key on both; Promote it on A; Promote it on B. No request fails,
// though between the second and third step A signs with the new key and B
// with the old. The replicas share one store (and so the login counters):
// memory, a SQLite file, and PostgreSQL as in production (skipped without
// GATEHOUSE_TEST_POSTGRES_DSN, failed under CI=true).
func TestRotationReplicas(t *testing.T) {
	const clients, perSegment = 4, 2 // 32 logins per store
	for _, store := range attackStores {
		t.Run(store.name, func(t *testing.T) {
			db, _, _ := store.open(t)
			oldMaterial, newMaterial := newEd25519(t), newEd25519(t)
			apps, keys := newReplicas(t, db, oldMaterial)
			newA, newB := mustKey(t, "", newMaterial), mustKey(t, "", newMaterial)
			st := &rotationStream{
				replicas: apps,
				steps: []func() error{
					func() error { return errors.Join(keys[0].Add(newA), keys[1].Add(newB)) },
					func() error { return keys[0].Promote(newA.ID()) },
					func() error { return keys[1].Promote(newB.ID()) },
				},
				perSegment: perSegment,
			}
			for c := range clients {
				email := fmt.Sprintf("client%d@example.com", c)
				tok := apps[c%2].signup(t, fmt.Sprintf("Client %d", c), email, password)["token"]
				st.emails = append(st.emails, email)
				st.old = append(st.old, []string{tok})
			}
			oldKey := keys[0].Active()

			st.run(t)
			failures := st.failed()
			t.Logf("%d requests, %d logins, %d failures", st.requests, len(st.logins), len(failures))
			for _, f := range failures {
				t.Error(f)
			}
			for r, ks := range keys {
				if ks.Active().ID() != newA.ID() || len(ks.Keys()) != 2 {
					t.Errorf("replica %d: active key %q of %d, want %q of 2", r, ks.Active().ID(), len(ks.Keys()), newA.ID())
				}
			}
			st.checkSigners(t, oldKey, newA, []int{1, 2})
		})
	}
}

// TestRotationReplicasControl shows why the procedure has three steps:
// rotating on replica A without first adding the new key on B makes B
// refuse A's new tokens, in the same stream as TestRotationReplicas; and
// adding the key on B then mends it.
func TestRotationReplicasControl(t *testing.T) {
	const clients, perSegment = 2, 2 // 8 logins
	oldMaterial, newMaterial := newEd25519(t), newEd25519(t)
	apps, keys := newReplicas(t, nil, oldMaterial)
	newA := mustKey(t, "", newMaterial)
	st := &rotationStream{
		replicas:   apps,
		steps:      []func() error{func() error { return keys[0].Rotate(newA) }},
		perSegment: perSegment,
	}
	for c := range clients {
		email := fmt.Sprintf("client%d@example.com", c)
		st.emails = append(st.emails, email)
		st.old = append(st.old, []string{apps[c%2].signup(t, fmt.Sprintf("Client %d", c), email, password)["token"]})
	}

	st.run(t)
	failures := st.failed()
	var fromA []string // A's new tokens
	for _, l := range st.logins {
		if l.replica == 0 && signedBy(l.token, newA) == nil {
			fromA = append(fromA, l.token)
		}
	}
	if len(fromA) == 0 {
		t.Fatal("replica A issued no token with the new key")
	}
	// Every failure is B refusing one of A's new tokens, and B refuses
	// each of them every time it is presented (once).
	for _, f := range failures {
		if !strings.Contains(f, "fresh token from replica 0 on replica 1: 401") {
			t.Errorf("unexpected failure: %s", f)
		}
	}
	if len(failures) != len(fromA) {
		t.Errorf("%d failures, want %d: one for each of A's new tokens presented to B", len(failures), len(fromA))
	}

	var refused string
	checkRefusal(t, apps[1].do(t, http.MethodGet, "/api/user/me", "", "", bearer(fromA[0])...), true, &refused)
	if err := keys[1].Add(mustKey(t, "", newMaterial)); err != nil {
		t.Fatal(err)
	}
	for _, tok := range fromA {
		if r := apps[1].do(t, http.MethodGet, "/api/user/me", "", "", bearer(tok)...); r.status != http.StatusOK {
			t.Errorf("B, holding the new key: %d %s", r.status, r.body)
		}
	}
}
