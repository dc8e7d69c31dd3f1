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
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	authpassword "github.com/gatehouse-go/gatehouse/auth/password"
	"github.com/gatehouse-go/gatehouse/internal/httpauthtest"
	"github.com/gatehouse-go/gatehouse/internal/testenv"
	"golang.org/x/crypto/argon2"
)

// TestLoadConcurrentLogins sends a flood of logins at once over real HTTP,
// 200 and then 1,000, to a service with the default argon2id parameters
// and the default MaxConcurrentHashes (GOMAXPROCS), and a HashWait long
// enough for all of them to get a hashing slot. Every login must succeed
// (no 500, and no 503 either, since HashWait is not exceeded), and the
// process's peak resident memory must stay bounded by the hashing slots:
// at most (1 + GOGC/100) × (MaxConcurrentHashes × Params.Memory + the
// logins × 32 KiB) above the peak before the flood, plus 64 MiB. Each hash
// allocates its Params.Memory of work memory (x/crypto's argon2), so the
// live hashing memory is at most MaxConcurrentHashes × Params.Memory,
// however many logins wait; a login waiting for a slot holds about 25 KiB
// of its own (net/http's connection buffers and two goroutine stacks,
// allowed 32 KiB here); and between two collections the garbage adds at
// most GOGC percent of the live heap. With the default GOGC=100 and two
// cores that is 76 MiB of hashing, 12.5 MiB for 200 logins and 62.5 MiB
// for 1,000. Without the limit, 1,000 concurrent argon2id computations
// would need 1,000 × 19 MiB, about 19 GiB.
//
// The clients run in a child process (the test binary again, see
// TestMain), so that the memory measured is the server's alone. They
// connect from as many different loopback addresses (127.0.1.1,
// 127.0.1.2, ...), as real clients would, so that per-client limits play
// no part.
//
// Throughput is logged against the ideal, the cores kept busy hashing (one
// argon2id hash timed in the same process), not asserted: this machine's
// speed varies from run to run. The peak is the kernel's VmHWM from
// /proc/self/status; the test resets it before each flood (writing 5 to
// /proc/self/clear_refs, Linux 4.0+) where it can, and otherwise measures
// from the peak reached so far, which only makes the check more lenient.
// Linux only; skipped with -short, under the race detector, whose shadow
// memory inflates the figures, and with GOGC=off.
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
	const maxClients = 1000
	params := authpassword.DefaultParams()
	limit := runtime.GOMAXPROCS(0) // the documented default of MaxConcurrentHashes
	s := httpauthtest.NewApp(t, nil, auth.Config{HashWait: 5 * time.Minute, Logger: slog.New(slog.DiscardHandler)})

	// Accounts sharing one real hash, planted directly so that setting
	// them up costs one argon2id computation rather than one each.
	ctx := context.Background()
	s.Signup(t, "Load 0", "load0@example.com", httpauthtest.Password)
	u, err := s.Store.UserByEmail(ctx, "load0@example.com")
	if err != nil || u.PasswordHash == "" {
		t.Fatalf("stored user %+v, %v", u, err)
	}
	for i := 1; i < maxClients; i++ {
		v := u
		v.ID = fmt.Sprintf("%032x", i)
		v.Email = fmt.Sprintf("load%d@example.com", i)
		v.Name = fmt.Sprintf("Load %d", i)
		if err := s.Store.CreateUser(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	hash := oneHashTime(params)
	growth := map[int]int{}
	for _, clients := range []int{200, maxClients} {
		t.Run(fmt.Sprint(clients), func(t *testing.T) {
			growth[clients] = loginFlood(t, s, clients, limit, params, gogc, hash)
		})
	}
	if g200, g1000 := growth[200], growth[maxClients]; g200 > 0 && g1000 > 0 {
		t.Logf("peak RSS growth: %d MiB with 200 logins, %d MiB with %d (%.2f×)", g200/1024, g1000/1024, maxClients, float64(g1000)/float64(g200))
	}
}

// loginFlood sends clients logins at once to s, checks that all succeed
// and that the peak RSS stays within the bound of TestLoadConcurrentLogins,
// and returns the peak's growth in KiB.
func loginFlood(t *testing.T, s *httpauthtest.App, clients, limit int, params authpassword.Params, gogc int, hash time.Duration) int {
	clientsProc := startLoadClients(t, s.Listener.Addr().String(), clients)
	runtime.GC()
	debug.FreeOSMemory()
	reset := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	before := procStatusKiB(t)
	cpu0 := cpuTime(t)
	t0 := time.Now()
	result := clientsProc.run(t)
	elapsed := time.Since(t0)
	cpu := cpuTime(t) - cpu0
	after := procStatusKiB(t)

	for _, err := range result.Errors {
		t.Errorf("login: %s", err)
	}
	byStatus := result.Statuses

	ideal := float64(limit) / hash.Seconds()
	got := float64(clients) / elapsed.Seconds()
	t.Logf("%d concurrent logins in %v: statuses %v; %.1f logins/s, %.2f × the ideal %d cores / %v per hash (%.1f/s); the server process used %.2f cores",
		clients, elapsed.Round(time.Millisecond), byStatus, got, got/ideal, limit, hash.Round(time.Millisecond/10), ideal, cpu.Seconds()/elapsed.Seconds())
	if byStatus[http.StatusOK] != clients {
		t.Errorf("want all %d logins answered 200; got %v (500: store or server failure; 503: HashWait exceeded; 429: throttled)", clients, byStatus)
	}

	const mib = 1024    // KiB
	const perLogin = 32 // KiB held by a login waiting for a slot
	hashing := limit * int(params.Memory)
	live := hashing + clients*perLogin
	budget := live * (100 + gogc) / 100
	bound := before["VmHWM"] + budget + 64*mib
	growth := after["VmHWM"] - before["VmHWM"]
	t.Logf("memory: VmRSS before %d MiB, VmHWM before %d MiB (reset: %v), VmHWM after %d MiB, growth %d MiB; "+
		"live: hashing ≤ MaxConcurrentHashes %d × %d MiB = %d MiB, logins %d × %d KiB = %.1f MiB; × (1 + GOGC/100) with GOGC=%d: %.1f MiB; "+
		"limit checked: VmHWM before + %.1f MiB + 64 MiB = %d MiB",
		before["VmRSS"]/mib, before["VmHWM"]/mib, reset, after["VmHWM"]/mib, growth/mib,
		limit, params.Memory/mib, hashing/mib, clients, perLogin, float64(clients*perLogin)/mib, gogc, float64(budget)/mib,
		float64(budget)/mib, bound/mib)
	if after["VmHWM"] > bound {
		t.Errorf("peak RSS %d MiB exceeds %d MiB: hashing memory is not bounded by MaxConcurrentHashes (%d)",
			after["VmHWM"]/mib, bound/mib, limit)
	}
	return growth
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

// loadResult is what the clients report: the responses' statuses and
// the errors of the logins that got none.
type loadResult struct {
	Statuses map[int]int
	Errors   []string
}

// loadClients is a child process ready to send a flood of logins.
type loadClients struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// startLoadClients starts the child process that sends n logins, one per
// account load0 to load<n-1>, to the server at addr, and waits until it
// is ready.
func startLoadClients(t *testing.T, addr string, n int) *loadClients {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d", loadClientsEnv, addr, n))
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
// "address count". Once its goroutines wait, it writes "ready", and on
// any line read from stdin every goroutine connects from a loopback
// address of its own and sends its login as a bare HTTP/1.1 request; then
// it writes the loadResult as JSON.
func runLoadClients(spec string) int {
	var addr string
	var n int
	if _, err := fmt.Sscan(spec, &addr, &n); err != nil {
		fmt.Fprintln(os.Stderr, "load clients:", err)
		return 2
	}
	start := make(chan struct{})
	statuses := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, byte(1+i/250), byte(1+i%250))}}
		body := fmt.Sprintf(`{"email":"load%d@example.com","password":%q}`, i, httpauthtest.Password)
		req := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
			httpauthtest.LoginPath, addr, len(body), body)
		wg.Go(func() {
			<-start
			statuses[i], errs[i] = rawPost(d, addr, req)
		})
	}
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return 2
	}
	close(start)
	wg.Wait()
	r := loadResult{Statuses: map[int]int{}}
	for i, st := range statuses {
		if errs[i] != nil {
			r.Errors = append(r.Errors, fmt.Sprintf("login %d: %v", i, errs[i]))
			continue
		}
		r.Statuses[st]++
	}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		return 2
	}
	return 0
}

// rawPost sends req, a whole HTTP/1.1 request, on a new connection to
// addr made by d, and returns the response's status.
func rawPost(d *net.Dialer, addr, req string) (int, error) {
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, req); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
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

// procStatusKiB reads the Vm* lines of /proc/self/status, in KiB.
func procStatusKiB(t *testing.T) map[string]int {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if f := strings.Fields(v); ok && strings.HasPrefix(k, "Vm") && len(f) == 2 && f[1] == "kB" {
			if n, err := strconv.Atoi(f[0]); err == nil {
				m[k] = n
			}
		}
	}
	if err := sc.Err(); err != nil || m["VmHWM"] == 0 || m["VmRSS"] == 0 {
		t.Fatalf("/proc/self/status: no VmHWM and VmRSS (%v)", err)
	}
	return m
}
