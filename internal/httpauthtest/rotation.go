package httpauthtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/token"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

// RotationStream is the request stream of a rotation test, and the
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
type RotationStream struct {
	Replicas   []*KeyApp
	Steps      []func() error
	Emails     []string   // one account per client
	Old        [][]string // per client: tokens issued before the stream
	PerSegment int

	phase    atomic.Int32 // 2k once steps[:k] are taken; 2k+1 while step k is under way
	mu       sync.Mutex
	seen     []map[int]bool  // seen[s]: the replicas a login of segment s came back from
	ready    []chan struct{} // ready[s] is closed once seen[s] holds every replica
	failures []string
	Logins   []StreamLogin
	Requests int
}

// StreamLogin is a login of the stream, and the phase of the rotation when
// it was sent and when its answer came back.
type StreamLogin struct {
	client, Replica int
	Token           string
	sent, answered  int32
}

// Run runs the stream to its end and fails t if a step failed.
func (st *RotationStream) Run(t *testing.T) {
	t.Helper()
	n := len(st.Steps)
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
		for k, step := range st.Steps {
			<-st.ready[k]
			st.phase.Store(int32(2*k + 1))
			stepErrs[k] = step()
			st.phase.Store(int32(2*k + 2))
			close(taken[k+1])
		}
	})
	for c := range st.Emails {
		wg.Go(func() {
			for i := range (n + 1) * st.PerSegment {
				s := i / st.PerSegment
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

func (st *RotationStream) iteration(c, i, s int) {
	for j, tok := range st.Old[c] {
		for r := range st.Replicas {
			st.Present(r, tok, fmt.Sprintf("client %d, iteration %d: old token %d", c, i, j))
		}
	}
	r := (c + i) % len(st.Replicas)
	sent := st.phase.Load()
	resp, err := st.Replicas[r].call(http.MethodPost, LoginPath, LoginBody(st.Emails[c], Password))
	answered := st.phase.Load()
	st.mu.Lock()
	st.Requests++
	if !st.seen[s][r] {
		st.seen[s][r] = true
		if len(st.seen[s]) == len(st.Replicas) {
			close(st.ready[s]) // once: seen[s] grows only under mu
		}
	}
	var sess struct{ Token string }
	if err == nil && resp.Status == http.StatusOK {
		err = json.Unmarshal([]byte(resp.Body), &sess)
	}
	if err != nil || resp.Status != http.StatusOK || sess.Token == "" {
		st.failures = append(st.failures, fmt.Sprintf("client %d, iteration %d: login on replica %d: %d %s %v", c, i, r, resp.Status, resp.Body, err))
		st.mu.Unlock()
		return
	}
	token := sess.Token
	st.Logins = append(st.Logins, StreamLogin{client: c, Replica: r, Token: token, sent: sent, answered: answered})
	st.mu.Unlock()
	for to := range st.Replicas {
		st.Present(to, token, fmt.Sprintf("client %d, iteration %d: fresh token from replica %d", c, i, r))
	}
}

// Present sends token to replica r's GET ProtectedPath; any answer but 200
// is a failure.
func (st *RotationStream) Present(r int, token, what string) {
	resp, err := st.Replicas[r].call(http.MethodGet, ProtectedPath, "", Bearer(token)...)
	st.mu.Lock()
	defer st.mu.Unlock()
	st.Requests++
	if err != nil || resp.Status != http.StatusOK {
		st.failures = append(st.failures, fmt.Sprintf("%s on replica %d: %d %s %v", what, r, resp.Status, resp.Body, err))
	}
}

// Failed returns the failures so far, and forgets them.
func (st *RotationStream) Failed() []string {
	st.mu.Lock()
	defer st.mu.Unlock()
	f := st.failures
	st.failures = nil
	return f
}

// CheckSigners checks the key that signed each login's token: replica r
// signs with newKey from step promotedBy[r] on. A login answered before
// that step began must carry oldKey's kid and algorithm, one sent after it
// was taken newKey's, one in between either. Each replica must have signed
// with both (so the rotation happened, and the stream spanned it).
func (st *RotationStream) CheckSigners(t *testing.T, oldKey, newKey *token.Key, promotedBy []int) {
	t.Helper()
	olds, news := make([]int, len(st.Replicas)), make([]int, len(st.Replicas))
	for _, l := range st.Logins {
		k := int32(promotedBy[l.Replica])
		errOld, errNew := SignedBy(l.Token, oldKey), SignedBy(l.Token, newKey)
		switch {
		case l.answered < 2*k+1:
			olds[l.Replica]++
			if errOld != nil {
				t.Errorf("client %d: a token answered by replica %d before its promotion of the new key: %v", l.client, l.Replica, errOld)
			}
		case l.sent >= 2*k+2:
			news[l.Replica]++
			if errNew != nil {
				t.Errorf("client %d: a token issued by replica %d after its promotion of the new key: %v", l.client, l.Replica, errNew)
			}
		case errOld != nil && errNew != nil:
			t.Errorf("client %d: a token of replica %d, issued during its promotion, is signed by neither key: %v", l.client, l.Replica, errNew)
		}
	}
	for r := range st.Replicas {
		if olds[r] == 0 || news[r] == 0 {
			t.Errorf("replica %d: %d logins surely before its promotion, %d surely after; want some of each", r, olds[r], news[r])
		}
	}
}

// NewReplicas starts two replicas of a service on one shared store (a
// fresh memory store if nil), each with its own KeySet holding only the
// key made of oldKey, as two processes that each load the same key file
// would.
func NewReplicas(t *testing.T, store auth.UserStore, oldKey ed25519.PrivateKey) (apps []*KeyApp, keys []*token.KeySet) {
	t.Helper()
	if store == nil {
		store = memstore.New()
	}
	for range 2 {
		ks := MustKeySet(t, MustKey(t, "", oldKey)) // named by its thumbprint: alike on both
		apps = append(apps, NewKeyApp(t, store, auth.Config{Keys: ks}, nil))
		keys = append(keys, ks)
	}
	return apps, keys
}

// NewEd25519 returns a new Ed25519 private key.
func NewEd25519(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// RotationReplicas rotates the key of two replicas in the documented
// three steps (the third, Remove, is for after the tokens' lifetime) while
// clients alternate between them, presenting every token to both: Add the
// new key on both; Promote it on A; Promote it on B. No request fails,
// though between the second and third step A signs with the new key and B
// with the old. The replicas share one store (and so the login counters):
// memory, a SQLite file, and PostgreSQL as in production (skipped without
// GATEHOUSE_TEST_POSTGRES_DSN, failed under CI=true).
func RotationReplicas(t *testing.T, stores []Store) {
	const clients, perSegment = 4, 2 // 32 logins per store
	for _, st := range stores {
		t.Run(st.Name, func(t *testing.T) {
			db := openStore(t, st)
			oldMaterial, newMaterial := NewEd25519(t), NewEd25519(t)
			apps, keys := NewReplicas(t, db, oldMaterial)
			newA, newB := MustKey(t, "", newMaterial), MustKey(t, "", newMaterial)
			st := &RotationStream{
				Replicas: apps,
				Steps: []func() error{
					func() error { return errors.Join(keys[0].Add(newA), keys[1].Add(newB)) },
					func() error { return keys[0].Promote(newA.ID()) },
					func() error { return keys[1].Promote(newB.ID()) },
				},
				PerSegment: perSegment,
			}
			for c := range clients {
				email := fmt.Sprintf("client%d@example.com", c)
				tok := apps[c%2].Signup(t, fmt.Sprintf("Client %d", c), email, Password)["token"]
				st.Emails = append(st.Emails, email)
				st.Old = append(st.Old, []string{tok})
			}
			oldKey := keys[0].Active()

			st.Run(t)
			failures := st.Failed()
			t.Logf("%d requests, %d logins, %d failures", st.Requests, len(st.Logins), len(failures))
			for _, f := range failures {
				t.Error(f)
			}
			for r, ks := range keys {
				if ks.Active().ID() != newA.ID() || len(ks.Keys()) != 2 {
					t.Errorf("replica %d: active key %q of %d, want %q of 2", r, ks.Active().ID(), len(ks.Keys()), newA.ID())
				}
			}
			st.CheckSigners(t, oldKey, newA, []int{1, 2})
		})
	}
}
