package httpauth_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	authpassword "github.com/gatehouse-go/gatehouse/auth/password"
	"github.com/gatehouse-go/gatehouse/internal/httpauthtest"
	"github.com/gatehouse-go/gatehouse/internal/proctest"
	"github.com/gatehouse-go/gatehouse/internal/testenv"
	"golang.org/x/crypto/argon2"
)

// TestLoadConcurrentLogins sends floods of logins at once over real HTTP,
// 200 and 1,000, to a service with the default hashing settings:
// argon2id's default parameters, MaxConcurrentHashes = GOMAXPROCS and
// HashWait = 1 s. Every login must get 200, or 503 with Retry-After (the
// hasher refuses at once a login that would not get a hashing slot within
// HashWait, or that finds 64 × MaxConcurrentHashes waiting), some must get
// 200, and the process's peak resident memory must stay bounded by the
// hashing slots, however many logins come: at most (1 + GOGC/100) ×
// MaxConcurrentHashes × Params.Memory above the peak before the flood,
// plus 64 MiB; with the default GOGC=100 and two cores, 140 MiB. Each
// hash allocates its Params.Memory of work memory (x/crypto's argon2), so
// the live hashing memory is at most MaxConcurrentHashes × Params.Memory,
// and between two collections the garbage adds at most GOGC percent of
// the live heap. The 64 MiB cover the rest: the logins waiting for a slot
// (about 25 KiB each: net/http's connection, the request, two
// goroutines), which the hasher bounds, and net/http's own memory for
// every connection open at once (about 12 KiB each, for any request),
// which the server's connection limit bounds, not the library. Without
// the limit on hashes, 1,000 concurrent argon2id computations would need
// 1,000 × 19 MiB, about 19 GiB.
//
// The floods alternate, three rounds of five: 200 logins, 1,000 logins,
// 1,000 logins through a listener that accepts at most 200 connections at
// a time, as a server with a connection limit does, so that as many
// connections are open at once as in the 200 flood; and 200 and 1,000
// requests to a path the server does not know (404), which measure
// net/http's own memory for the connections. The medians of the peaks
// are logged and compared, not asserted: two
// floods of one size differ by 20% and more (with GOGC, the peak depends
// on when the collector runs against the 19 MiB allocations), so their
// ratio is not resolved by three rounds.
//
// The clients run in a child process (the test binary again, see
// TestMain), so that the memory measured is the server's alone. They
// connect from as many different loopback addresses (127.0.1.1,
// 127.0.1.2, ...), as real clients would, so that per-client limits play
// no part.
//
// The throughput of the logins served (200) is logged against the ideal,
// the cores kept busy hashing (one argon2id hash timed in the same
// process), with the CPU the server used, not asserted: this machine's
// speed varies from run to run. The peak is the kernel's VmHWM from
// /proc/self/status; the test resets it before each flood (writing 5 to
// /proc/self/clear_refs, Linux 4.0+) where it can, and otherwise
// measures from the peak reached so far, which only makes the check more
// lenient. Linux only; skipped with -short, under the race detector,
// whose shadow memory inflates the figures, and with GOGC=off.
func TestLoadConcurrentLogins(t *testing.T) {
	if testing.Short() {
		t.Skip("load test takes tens of seconds; skipped with -short")
	}
	if testenv.RaceEnabled() {
		t.Skip("load test: the race detector distorts memory use")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("load test needs Linux's /proc/self/status: ", err)
	}
	gogc := debug.SetGCPercent(100)
	debug.SetGCPercent(gogc)
	if gogc < 0 {
		t.Skip("load test: with GOGC=off the heap is not expected to stay bounded")
	}
	const rounds = 3
	floods := []struct {
		name    string
		path    string // LoginPath, or a path the server does not know
		limited bool   // through a listener with a limit of 200 connections
		clients int
	}{
		{"200", httpauthtest.LoginPath, false, 200},
		{"1000", httpauthtest.LoginPath, false, 1000},
		{"1000_by_200", httpauthtest.LoginPath, true, 1000},
		{"404_200", "/nowhere", false, 200},
		{"404_1000", "/nowhere", false, 1000},
	}
	accounts := 0
	for _, f := range floods {
		if f.path == httpauthtest.LoginPath {
			accounts += rounds * f.clients
		}
	}
	params := authpassword.DefaultParams()
	limit := runtime.GOMAXPROCS(0) // the documented default of MaxConcurrentHashes
	s := httpauthtest.NewApp(t, nil, auth.Config{Logger: slog.New(slog.DiscardHandler)})

	// Accounts sharing one real hash, planted directly so that setting
	// them up costs one argon2id computation rather than one each. Every
	// flood logs in to accounts of its own: a login refused with 503
	// counts as a failed attempt in the login throttling of its account
	// and client, which would throttle the later floods' logins (429).
	ctx := context.Background()
	s.Signup(t, "Load 0", "load0@example.com", httpauthtest.Password)
	u, err := s.Store.UserByEmail(ctx, "load0@example.com")
	if err != nil || u.PasswordHash == "" {
		t.Fatalf("stored user %+v, %v", u, err)
	}
	for i := 1; i < accounts; i++ {
		v := u
		v.ID = fmt.Sprintf("%032x", i)
		v.Email = fmt.Sprintf("load%d@example.com", i)
		v.Name = fmt.Sprintf("Load %d", i)
		if err := s.Store.CreateUser(ctx, v); err != nil {
			t.Fatal(err)
		}
	}

	// The same handler behind a listener with a connection limit.
	limited := httptest.NewUnstartedServer(s.Config.Handler)
	limited.Listener = &limitListener{Listener: limited.Listener, free: make(chan struct{}, 200)}
	limited.Start()
	t.Cleanup(limited.Close)

	b := floodBounds{slots: limit, params: params, gogc: gogc, hash: oneHashTime(params)}
	growth := map[string][]int{}
	speed := map[string][]float64{}
	first := 0
	for range rounds {
		for _, f := range floods {
			addr := s.Listener.Addr().String()
			if f.limited {
				addr = limited.Listener.Addr().String()
			}
			t.Run(f.name, func(t *testing.T) {
				r := loginFlood(t, addr, f.path, f.clients, first, b)
				if r.growth > 0 {
					growth[f.name] = append(growth[f.name], r.growth)
				}
				speed[f.name] = append(speed[f.name], r.speed)
			})
			if f.path == httpauthtest.LoginPath {
				first += f.clients
			}
		}
	}
	for _, f := range floods {
		if len(growth[f.name]) < rounds {
			return // VmHWM could not be reset: the peaks are not comparable
		}
	}
	g200 := median(growth["200"])
	for _, f := range floods {
		g := median(growth[f.name])
		if f.path != httpauthtest.LoginPath {
			t.Logf("%s: peak RSS growth %v MiB, median %.1f MiB (net/http alone)", f.name, mibs(growth[f.name]), g/1024)
			continue
		}
		t.Logf("%s: peak RSS growth %v MiB, median %.0f MiB (%.2f× 200's); throughput %.2f× the ideal (median of %.2f)",
			f.name, mibs(growth[f.name]), g/1024, g/g200, median(speed[f.name]), speed[f.name])
	}
}

// floodBounds is what loginFlood measures a flood against.
type floodBounds struct {
	slots  int                 // MaxConcurrentHashes
	params authpassword.Params // Config.Params
	gogc   int
	hash   time.Duration // one argon2id hash with params
}

// floodResult is what loginFlood measured.
type floodResult struct {
	growth int     // of the peak RSS, in KiB; 0 if VmHWM could not be reset
	speed  float64 // logins served per second ÷ (slots ÷ one hash's time)
}

// loginFlood sends clients logins at once to path on the server at addr,
// for the accounts load<first> to load<first+clients-1>, checks that
// each is answered 200, or 503 with Retry-After, that some are answered
// 200, and that the peak RSS stays within the bound of
// TestLoadConcurrentLogins. With a path other than LoginPath, which the
// server does not know, it checks that each is answered 404: that flood
// measures what net/http holds for the connections.
func loginFlood(t *testing.T, addr, path string, clients, first int, b floodBounds) floodResult {
	clientsProc := startLoadClients(t, addr, path, clients, first)
	runtime.GC()
	debug.FreeOSMemory()
	reset := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	before := proctest.StatusKiB(t)
	cpu0 := cpuTime(t)
	t0 := time.Now()
	result := clientsProc.run(t)
	elapsed := time.Since(t0)
	cpu := cpuTime(t) - cpu0
	after := proctest.StatusKiB(t)

	for _, err := range result.Errors {
		t.Errorf("login: %s", err)
	}
	byStatus := result.Statuses
	served := byStatus[http.StatusOK]
	ideal := float64(b.slots) / b.hash.Seconds()
	got := float64(served) / elapsed.Seconds()
	if path == httpauthtest.LoginPath {
		t.Logf("%d concurrent logins in %v: statuses %v, %d of the 503s within 0.5 s (slowest answer: %v); %.1f served/s, %.2f × the ideal %d cores / %v per hash (%.1f/s); the server process used %.2f cores",
			clients, elapsed.Round(time.Millisecond), byStatus, result.QuickBusy, result.Slowest, got, got/ideal, b.slots, b.hash.Round(time.Millisecond/10), ideal, cpu.Seconds()/elapsed.Seconds())
	} else {
		t.Logf("%d concurrent requests to %s in %v: statuses %v; the server process used %.2f cores",
			clients, path, elapsed.Round(time.Millisecond), byStatus, cpu.Seconds()/elapsed.Seconds())
	}
	switch {
	case path != httpauthtest.LoginPath:
		if byStatus[http.StatusNotFound] != clients {
			t.Errorf("want every request to %s answered 404; got %v", path, byStatus)
		}
	case served+byStatus[http.StatusServiceUnavailable] != clients:
		t.Errorf("want every login answered 200 or 503; got %v (500: store or server failure; 429: throttled)", byStatus)
	case served == 0:
		t.Errorf("no login answered 200")
	}

	const mib = 1024 // KiB
	hashing := b.slots * int(b.params.Memory)
	budget := hashing * (100 + b.gogc) / 100
	bound := before["VmHWM"] + budget + 64*mib
	growth := after["VmHWM"] - before["VmHWM"]
	t.Logf("memory: VmRSS before %d MiB, VmHWM before %d MiB (reset: %v), VmHWM after %d MiB, growth %d MiB; "+
		"live hashing ≤ MaxConcurrentHashes %d × %d MiB = %d MiB, × (1 + GOGC/100) with GOGC=%d: %.1f MiB; "+
		"limit checked: VmHWM before + %.1f MiB + 64 MiB = %d MiB",
		before["VmRSS"]/mib, before["VmHWM"]/mib, reset, after["VmHWM"]/mib, growth/mib,
		b.slots, b.params.Memory/mib, hashing/mib, b.gogc, float64(budget)/mib,
		float64(budget)/mib, bound/mib)
	if after["VmHWM"] > bound {
		t.Errorf("peak RSS %d MiB exceeds %d MiB: memory is not bounded by MaxConcurrentHashes (%d)",
			after["VmHWM"]/mib, bound/mib, b.slots)
	}
	r := floodResult{speed: got / ideal}
	if reset {
		r.growth = growth
	}
	return r
}

// limitListener accepts at most cap(free) connections at a time: Accept
// waits until one of them is closed.
type limitListener struct {
	net.Listener
	free chan struct{}
}

func (l *limitListener) Accept() (net.Conn, error) {
	l.free <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.free
		return nil, err
	}
	return &limitedConn{Conn: c, release: func() { <-l.free }}, nil
}

// limitedConn gives its place back to its limitListener once closed.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// median returns the median of xs, which must not be empty, as a float64.
func median[T int | float64](xs []T) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return float64(s[n/2])
	}
	return (float64(s[n/2-1]) + float64(s[n/2])) / 2
}

// mibs returns KiB figures in whole MiB.
func mibs(kib []int) []int {
	m := make([]int, len(kib))
	for i, k := range kib {
		m[i] = k / 1024
	}
	return m
}

// loadClientsEnv, set in the environment of a child process of
// TestLoadConcurrentLogins to "address count", makes it the clients of a
// login flood instead of running tests (see TestMain).
const loadClientsEnv = "GATEHOUSE_TEST_LOAD_CLIENTS"

// TestMain runs the tests, or, in a child process of
// TestLoadConcurrentLogins, its clients.
func TestMain(m *testing.M) {
	if spec := os.Getenv(loadClientsEnv); spec != "" {
		os.Exit(runLoadClients(spec))
	}
	os.Exit(m.Run())
}

// loadResult is what the clients report: the responses' statuses, how
// many 503s came within half a second (refused without waiting out
// HashWait), the time the slowest answer of each status took, and the
// errors: logins that got no answer, and 503s without Retry-After.
type loadResult struct {
	Statuses  map[int]int
	QuickBusy int
	Slowest   map[int]time.Duration
	Errors    []string
}

// loadClients is a child process ready to send a flood of logins.
type loadClients struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// startLoadClients starts the child process that sends n logins, one per
// account load<first> to load<first+n-1>, to path on the server at addr,
// and waits until it is ready.
func startLoadClients(t *testing.T, addr, path string, n, first int) *loadClients {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %s %d %d", loadClientsEnv, addr, path, n, first))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); cmd.Wait() })
	c := &loadClients{cmd: cmd, in: in, out: bufio.NewReader(out)}
	if line, err := c.out.ReadString('\n'); line != "ready\n" {
		t.Fatalf("load clients: %q, %v; want \"ready\"", line, err)
	}
	return c
}

// run sends the flood and returns the clients' result once every login
// has been answered.
func (c *loadClients) run(t *testing.T) loadResult {
	t.Helper()
	if _, err := io.WriteString(c.in, "go\n"); err != nil {
		t.Fatal(err)
	}
	var r loadResult
	if err := json.NewDecoder(c.out).Decode(&r); err != nil {
		t.Fatalf("load clients: %v", err)
	}
	return r
}

// runLoadClients is the child process of startLoadClients: spec is
// "address path count first". Once its goroutines wait, it writes
// "ready", and on any line read from stdin each of them connects from a
// loopback address of its own and posts its login, for one of the
// accounts load<first> to load<first+count-1>, to path as a bare HTTP/1.1
// request; then it writes the loadResult as JSON.
func runLoadClients(spec string) int {
	var addr, path string
	var n, first int
	if _, err := fmt.Sscan(spec, &addr, &path, &n, &first); err != nil {
		fmt.Fprintln(os.Stderr, "load clients:", err)
		return 2
	}
	start := make(chan struct{})
	statuses := make([]int, n)
	retryAfter := make([]bool, n)
	took := make([]time.Duration, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, byte(1+i/250), byte(1+i%250))}}
		body := fmt.Sprintf(`{"email":"load%d@example.com","password":%q}`, first+i, httpauthtest.Password)
		req := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
			path, addr, len(body), body)
		wg.Go(func() {
			<-start
			t0 := time.Now()
			statuses[i], retryAfter[i], errs[i] = rawPost(d, addr, req)
			took[i] = time.Since(t0)
		})
	}
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return 2
	}
	close(start)
	wg.Wait()
	r := loadResult{Statuses: map[int]int{}, Slowest: map[int]time.Duration{}}
	for i, st := range statuses {
		if errs[i] != nil {
			r.Errors = append(r.Errors, fmt.Sprintf("login %d: %v", i, errs[i]))
			continue
		}
		r.Statuses[st]++
		r.Slowest[st] = max(r.Slowest[st], took[i].Round(time.Millisecond))
		if st == http.StatusServiceUnavailable && took[i] < time.Second/2 {
			r.QuickBusy++
		}
		if st == http.StatusServiceUnavailable && !retryAfter[i] {
			r.Errors = append(r.Errors, fmt.Sprintf("login %d: 503 without Retry-After", i))
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		return 2
	}
	return 0
}

// rawPost sends req, a whole HTTP/1.1 request, on a new connection to
// addr made by d, and returns the response's status and whether it has a
// Retry-After header.
func rawPost(d *net.Dialer, addr, req string) (status int, retryAfter bool, err error) {
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return 0, false, err
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, req); err != nil {
		return 0, false, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After") != "", err
}

// oneHashTime is the time of one argon2id hash with p, computed directly
// with golang.org/x/crypto/argon2, one at a time, in steady state
// (testing.Benchmark: about a second of hashing).
func oneHashTime(p authpassword.Params) time.Duration {
	salt := make([]byte, p.SaltLen)
	r := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			argon2.IDKey([]byte(httpauthtest.Password), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLen)
		}
	})
	return time.Duration(r.NsPerOp())
}

// cpuTime returns the user and system CPU time this process has used,
// from /proc/self/stat (in clock ticks, 100 per second on Linux).
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Fatal(err)
	}
	// The fields after the command name (in parentheses): utime and
	// stime are the 12th and 13th.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	utime, err1 := strconv.Atoi(f[11])
	stime, err2 := strconv.Atoi(f[12])
	if err1 != nil || err2 != nil {
		t.Fatalf("/proc/self/stat: %q", b)
	}
	return time.Duration(utime+stime) * time.Second / 100
}
