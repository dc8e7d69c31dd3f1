package e2e

// Load tests of POST /password/forgot over real HTTP with real SMTP
// (smtpmail): the answer's timing for known and unknown addresses, and
// the memory of the mail queue while the SMTP server is down. They log
// their figures (BENCHMARKS.md, "Password reset requests") and assert no
// time: only the answers, and the bound on queued mail jobs.

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/httpauth"
	"github.com/gatehouse-go/gatehouse/internal/httpauthtest"
	"github.com/gatehouse-go/gatehouse/internal/mailpittest"
	"github.com/gatehouse-go/gatehouse/internal/proctest"
	"github.com/gatehouse-go/gatehouse/internal/testenv"
	"github.com/gatehouse-go/gatehouse/mail/smtpmail"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

// skipLoad skips a load test with -short and under the race detector,
// which distorts timings and memory.
func skipLoad(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("load test; skipped with -short")
	}
	if testenv.RaceEnabled() {
		t.Skip("load test: the race detector distorts timings and memory")
	}
}

// forgotServer serves httpauth's endpoints for svc on a loopback
// listener, trusting 127.0.0.1 as a proxy so that each request names its
// client in X-Forwarded-For, as a load balancer would: the per-client
// limit of reset requests (20 an hour) plays no part.
func forgotServer(t *testing.T, svc *auth.Service) *httptest.Server {
	t.Helper()
	h, err := httpauth.New(svc, httpauth.Config{
		Logger:         slog.New(slog.DiscardHandler),
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// forgot posts a reset request for email from client and returns the
// status and body.
func forgot(c *http.Client, base, client, email string) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, base+httpauthtest.ForgotPasswordPath, strings.NewReader(`{"email":"`+email+`"}`))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", client)
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// clientAddr is the made-up address of the i-th client: 10.x.y.z.
func clientAddr(i int) string {
	return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String()
}

// storedHash is the password hash of the accounts the load tests put in
// their stores directly (no reset request checks it).
const storedHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"

// createAccounts stores n accounts, known0@example.com ..., directly.
func createAccounts(t *testing.T, store auth.UserStore, n int, now time.Time) {
	t.Helper()
	for i := range n {
		id := make([]byte, 16)
		rand.Read(id)
		u := auth.User{ID: hex.EncodeToString(id), Email: fmt.Sprintf("known%d@example.com", i), Name: "Known", PasswordHash: storedHash, CreatedAt: now}
		if err := store.CreateUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLoadForgotTiming measures POST /password/forgot over real HTTP for
// known and unknown addresses, 200 requests each, one at a time,
// interleaved in a random order (a known address's mail job, off the
// request path, competes with the next request, whichever it is), after
// 20 requests of each for warm-up, on SQLite (the example server's store)
// and PostgreSQL, with the mail sent over SMTP to mailpit. The client is
// a process of its own (this test binary again, see
// TestHelperForgotClient), as a remote client would be: in the server's
// process, it would wait for the CPU behind the mail job of a known
// address, which a remote client does not. It logs the median and 99th
// percentile of each and the ratio of the medians, which should be within
// 10% of 1; it asserts only that every answer is the same 202.
//
//	go test -run TestLoadForgotTiming -v ./internal/e2e
func TestLoadForgotTiming(t *testing.T) {
	skipLoad(t)
	const n, warmup = 200, 20
	for _, st := range sqlStores {
		t.Run(st.Name, func(t *testing.T) {
			store, _, _ := st.Open(t)
			mp := mailpittest.Start(t, mailpittest.Options{})
			sender, err := smtpmail.New(smtpmail.Config{Host: mp.Host, Port: mp.SMTPPort, TLS: smtpmail.NoTLS, From: "no-reply@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			svc, err := auth.New(store, auth.Config{Secret: httpauthtest.Secret, Mailer: sender, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { svc.Shutdown(context.Background()) })
			createAccounts(t, store, n+warmup, time.Now())
			srv := forgotServer(t, svc)

			// The requests: warm-up first, then known and unknown in a
			// random order, so that each is as likely to follow a known
			// address, whose mail job then competes with it.
			var emails []string
			for i := range warmup {
				emails = append(emails, fmt.Sprintf("known%d@example.com", n+i), fmt.Sprintf("unknown%d@example.com", n+i))
			}
			for _, j := range mrand.Perm(2 * n) {
				if j < n {
					emails = append(emails, fmt.Sprintf("known%d@example.com", j))
				} else {
					emails = append(emails, fmt.Sprintf("unknown%d@example.com", j-n))
				}
			}
			var known, unknown []time.Duration
			var first string
			for i, r := range forgotFromChild(t, srv.URL, emails) {
				if r.status != http.StatusAccepted {
					t.Fatalf("forgot %s: %d %s", emails[i], r.status, r.body)
				}
				if first == "" {
					first = r.body
				} else if r.body != first {
					t.Fatalf("forgot %s: body %s, another was %s", emails[i], r.body, first)
				}
				switch {
				case i < 2*warmup:
				case strings.HasPrefix(emails[i], "known"):
					known = append(known, r.took)
				default:
					unknown = append(unknown, r.took)
				}
			}
			mk, mu := quantile(known, 0.5), quantile(unknown, 0.5)
			t.Logf("forgot, %d requests each: known median %v p99 %v; unknown median %v p99 %v; median known/unknown %.3f",
				n, mk, quantile(known, 0.99), mu, quantile(unknown, 0.99), float64(mk)/float64(mu))
		})
	}
}

// forgotResult is what the client process saw of one request.
type forgotResult struct {
	status int
	took   time.Duration
	body   string
}

// forgotClientEnv names the variable that makes TestHelperForgotClient,
// in a child process, the client of TestLoadForgotTiming: its value is
// the server's base URL.
const forgotClientEnv = "GATEHOUSE_FORGOT_CLIENT"

// forgotFromChild runs the client process, which sends a reset request
// for each of emails in turn, the i-th from the made-up address
// clientAddr(i+1), and returns what it saw of each.
func forgotFromChild(t *testing.T, base string, emails []string) []forgotResult {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperForgotClient$", "-test.count=1")
	cmd.Env = append(os.Environ(), forgotClientEnv+"="+base)
	cmd.Stdin = strings.NewReader(strings.Join(emails, "\n") + "\n")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the client process: %v\n%s", err, out)
	}
	var results []forgotResult
	for line := range strings.Lines(string(out)) {
		var r forgotResult
		var ns int64
		if n, _ := fmt.Sscanf(line, "result %d %d", &r.status, &ns); n != 2 {
			continue // the test binary's own output
		}
		r.took = time.Duration(ns)
		_, r.body, _ = strings.Cut(strings.TrimSpace(line), " body ")
		results = append(results, r)
	}
	if len(results) != len(emails) {
		t.Fatalf("the client process reported %d requests of %d:\n%s", len(results), len(emails), out)
	}
	return results
}

// TestHelperForgotClient is not a test of its own: forgotFromChild runs
// it in a child process, where it reads addresses from standard input,
// one a line, sends a reset request for each, one at a time, and writes
// "result <status> <nanoseconds> body <body>" for each. Without
// forgotClientEnv it does nothing.
func TestHelperForgotClient(t *testing.T) {
	base := os.Getenv(forgotClientEnv)
	if base == "" {
		t.Log("helper for TestLoadForgotTiming; does nothing unless " + forgotClientEnv + " is set")
		return
	}
	c := &http.Client{}
	sc := bufio.NewScanner(os.Stdin)
	for i := 0; sc.Scan(); i++ {
		start := time.Now()
		status, body, err := forgot(c, base, clientAddr(i+1), sc.Text())
		took := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("result %d %d body %s\n", status, took.Nanoseconds(), strings.TrimSpace(body))
	}
}

// quantile returns the q-quantile of ds (nearest rank).
func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[max(0, int(math.Ceil(q*float64(len(s))))-1)]
}

// TestLoadMailQueueSMTPDown sends 10,000 reset requests for as many
// accounts, from 8 clients at once, to a service whose SMTP server is
// down: smtpmail points at a closed port, and each message takes its
// three attempts and two waits (1 s, 2 s) before it fails. The 4 mail
// workers stay busy, the queue fills up to MailQueueSize (default 1,000)
// and every further job is dropped and recorded as failed, so the heap
// stops growing once the queue is full. The test logs the live heap
// (after a collection) and VmRSS at every 1,000 requests, and asserts
// that the jobs waiting or running never exceed MailQueueSize plus the
// workers. Then the SMTP server comes back (a listener on the port that
// forwards to mailpit) and the queue drains: every job was delivered,
// failed or dropped.
//
//	go test -run TestLoadMailQueueSMTPDown -v ./internal/e2e
func TestLoadMailQueueSMTPDown(t *testing.T) {
	skipLoad(t)
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("load test needs Linux's /proc/self/status: ", err)
	}
	const requests, clients, queueSize, workers = 10000, 8, 1000, 4
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // the SMTP server is down
	sender, err := smtpmail.New(smtpmail.Config{Host: "127.0.0.1", Port: port, TLS: smtpmail.NoTLS, From: "no-reply@example.com"})
	if err != nil {
		t.Fatal(err)
	}

	var requested, sent, failed, dropped atomic.Int64
	store := memstore.New()
	svc, err := auth.New(store, auth.Config{
		Secret: httpauthtest.Secret,
		Mailer: sender,
		Logger: slog.New(slog.DiscardHandler),
		OnEvent: func(_ context.Context, e auth.Event) {
			switch {
			case e.Kind == auth.EventResetRequested:
				requested.Add(1)
			case e.Kind == auth.EventMailSent:
				sent.Add(1)
			case e.Kind == auth.EventMailFailed && strings.HasSuffix(e.Reason, "mail queue full"):
				dropped.Add(1)
			case e.Kind == auth.EventMailFailed:
				failed.Add(1)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	createAccounts(t, store, requests, time.Now())
	srv := forgotServer(t, svc)
	c := srv.Client()
	c.Transport.(*http.Transport).MaxIdleConnsPerHost = clients
	// pending is the jobs queued or running: requested and not yet sent,
	// failed or dropped.
	pending := func() int64 { return requested.Load() - sent.Load() - failed.Load() - dropped.Load() }
	var lastHeap uint64
	sample := func(label string) (heap uint64, rss int) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		rss = proctest.StatusKiB(t)["VmRSS"]
		t.Logf("%-24s heap %5.1f MiB (%+5.2f)  VmRSS %5.1f MiB  queued or running %4d  dropped %5d  failed %d",
			label, mib(ms.HeapAlloc), mib(ms.HeapAlloc)-mib(lastHeap), float64(rss)/1024, pending(), dropped.Load(), failed.Load())
		lastHeap = ms.HeapAlloc
		return ms.HeapAlloc, rss
	}
	// flood sends the reset requests for the accounts from to to-1, from
	// clients at once, each from an address of its own.
	flood := func(from, to int) {
		t.Helper()
		var next atomic.Int64
		next.Store(int64(from))
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		for range clients {
			wg.Go(func() {
				for i := int(next.Add(1)) - 1; i < to; i = int(next.Add(1)) - 1 {
					status, body, err := forgot(c, srv.URL, clientAddr(i+1), fmt.Sprintf("known%d@example.com", i))
					if err == nil && status != http.StatusAccepted {
						err = fmt.Errorf("request %d: %d %s", i, status, body)
					}
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}

	heap0, rss0 := sample("before")
	var maxPending int64
	var heap1000 uint64
	for done := 0; done < requests; done += 1000 {
		flood(done, done+1000)
		maxPending = max(maxPending, pending())
		heap, rss := sample(strconv.Itoa(done+1000) + " requests")
		switch done + 1000 {
		case 1000:
			heap1000 = heap
		case requests:
			t.Logf("growth after %d requests: heap %+.1f MiB, VmRSS %+.1f MiB; at most %d jobs queued or running",
				requests, mib(heap)-mib(heap0), float64(rss-rss0)/1024, maxPending)
		}
	}
	if maxPending > queueSize+workers {
		t.Errorf("%d jobs queued or running; the bound is MailQueueSize + workers = %d", maxPending, queueSize+workers)
	}
	if d := dropped.Load(); d < requests-queueSize-workers-failed.Load() {
		t.Errorf("%d jobs dropped of %d, with %d failed: the queue held more than its size", d, requests, failed.Load())
	}

	// The SMTP server comes back: the queue drains into mailpit.
	mp := mailpittest.Start(t, mailpittest.Options{})
	forward(t, port, mp.SMTPAddr())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := svc.Shutdown(ctx); err != nil {
		t.Fatalf("the queue did not drain: %v (%d queued or running)", err, pending())
	}
	heapDrained, _ := sample("drained")
	if pending() != 0 || sent.Load() == 0 {
		t.Errorf("after draining: %d queued or running, %d sent; want 0 and some", pending(), sent.Load())
	}
	t.Logf("of %d requests: %d sent once the server was back, %d failed while it was down, %d dropped",
		requests, sent.Load(), failed.Load(), dropped.Load())

	// The control: 1,000 more requests, for new addresses from new
	// clients, to the queue, shut down now, which keeps no job: what they
	// leave on the heap is the rest of a request's state, the throttling
	// counters (per address and per client) above all, which the queue's
	// share is measured against.
	flood(requests, requests+1000)
	heapControl, _ := sample("control: 1000 more")
	perThousand := float64(heapControl) - float64(heapDrained)
	t.Logf("the queue's share: %.2f MiB for the first 1000 requests (the queue full), less %.2f MiB of the control's: %.2f MiB, %.0f bytes per queued job",
		mib(heap1000)-mib(heap0), perThousand/(1<<20), (float64(heap1000)-float64(heap0)-perThousand)/(1<<20),
		(float64(heap1000)-float64(heap0)-perThousand)/queueSize)
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// forward listens on 127.0.0.1:port and forwards every connection to
// addr until the test ends.
func forward(t *testing.T, port int, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer in.Close()
				out, err := net.Dial("tcp", addr)
				if err != nil {
					return
				}
				defer out.Close()
				go io.Copy(out, in) //nolint:errcheck // ends with either side
				io.Copy(in, out)    //nolint:errcheck
			}()
		}
	}()
}
