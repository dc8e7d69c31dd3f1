// Package mailpittest runs a real SMTP server for tests: a mailpit
// process (https://mailpit.axllent.org) on free loopback ports, stopped
// when the test ends, whose messages a test reads back through mailpit's
// HTTP API.
//
// # The binary
//
// [Start] runs the mailpit found on PATH or in $(go env GOPATH)/bin; the
// tests are written against v1.33.1:
//
//	go install github.com/axllent/mailpit@v1.33.1
//
// Without it the test is skipped with a message saying so, except under
// CI=true, where every test must run: there a missing binary fails the
// test.
//
// # Options
//
// [Options] turns on what a test needs: STARTTLS or implicit TLS with a
// certificate made for the test (trusted by [Server.RootCAs]), SMTP AUTH
// with one user, and mailpit's chaos triggers, which answer SMTP commands
// with a chosen error ([Server.SetChaos]).
package mailpittest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/syncbuffer"
	"github.com/gatehouse-go/gatehouse/internal/testenv"
)

// Host is the loopback address mailpit listens on, and the name its
// certificate is made for.
const Host = "127.0.0.1"

// timeout bounds mailpit's start and stop, each API call, and
// [Server.WaitMessage].
const timeout = 30 * time.Second

// TLSMode is how mailpit's SMTP listener uses TLS.
type TLSMode int

const (
	NoTLS       TLSMode = iota // plain SMTP, no STARTTLS offered
	StartTLS                   // STARTTLS offered and required before MAIL
	ImplicitTLS                // TLS from the first byte (SMTPS)
)

// Options configure the mailpit of one test. The zero value is a plain
// SMTP server that accepts any message without AUTH.
type Options struct {
	TLS TLSMode

	// Username and Password, if Username is set, are the one account of
	// SMTP AUTH, which is then required. (mailpit requires TLS for AUTH:
	// set TLS too.) They must not contain white space.
	Username, Password string

	// Chaos turns on mailpit's chaos triggers, off until [Server.SetChaos].
	Chaos bool
}

// Server is a running mailpit.
type Server struct {
	Host     string // Host
	SMTPPort int
	// RootCAs trusts the certificate of the SMTP listener; nil without
	// TLS.
	RootCAs *x509.CertPool

	api    string // the base URL of the HTTP API, without a trailing slash
	client *http.Client
}

// SMTPAddr returns the host:port of the SMTP listener.
func (s *Server) SMTPAddr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.SMTPPort)) }

// Binary returns the path of the mailpit binary, or "" if there is none.
func Binary() string {
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		return ""
	}
	for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
		p := filepath.Join(dir, "bin", "mailpit")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	return ""
}

// Start runs a mailpit configured by opts and stops it when the test
// ends. It skips the test if there is no mailpit binary (fails it under
// CI=true), and fails it if mailpit does not start.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	bin := Binary()
	if bin == "" {
		msg := "mailpit not found on PATH or in $(go env GOPATH)/bin: go install github.com/axllent/mailpit@v1.33.1"
		testenv.Missing(t, msg)
	}
	dir := t.TempDir()
	s := &Server{Host: Host, client: &http.Client{Timeout: timeout}}
	var args []string
	switch opts.TLS {
	case StartTLS, ImplicitTLS:
		cert, key, pool := newCertificate(t, dir)
		s.RootCAs = pool
		args = append(args, "--smtp-tls-cert", cert, "--smtp-tls-key", key)
		if opts.TLS == StartTLS {
			args = append(args, "--smtp-require-starttls")
		} else {
			args = append(args, "--smtp-require-tls")
		}
	case NoTLS:
	default:
		t.Fatalf("mailpittest: unknown TLSMode %d", opts.TLS)
	}
	if opts.Username != "" {
		file := filepath.Join(dir, "smtp-users")
		if err := os.WriteFile(file, []byte(opts.Username+":"+opts.Password+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--smtp-auth-file", file)
	}
	if opts.Chaos {
		args = append(args, "--enable-chaos")
	}
	// The ports are found free and then handed to mailpit, so another
	// process may take one in between: then mailpit exits, and Start tries
	// again with other ports.
	var lastErr error
	for range 3 {
		smtpPort, httpPort := freePort(t), freePort(t)
		cmdArgs := append([]string{
			"--smtp", net.JoinHostPort(Host, strconv.Itoa(smtpPort)),
			"--listen", net.JoinHostPort(Host, strconv.Itoa(httpPort)),
			"--pop3", net.JoinHostPort(Host, strconv.Itoa(freePort(t))),
			"--database", filepath.Join(dir, "mailpit.db"),
			"--disable-version-check",
			"--smtp-disable-rdns",
		}, args...)
		cmd := exec.Command(bin, cmdArgs...)
		out := &syncbuffer.Buffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatalf("mailpittest: starting %s: %v", bin, err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		s.SMTPPort = smtpPort
		s.api = "http://" + net.JoinHostPort(Host, strconv.Itoa(httpPort))
		if lastErr = s.waitReady(exited); lastErr == nil {
			t.Cleanup(func() {
				_ = cmd.Process.Signal(os.Interrupt)
				select {
				case <-exited:
				case <-time.After(timeout):
					_ = cmd.Process.Kill()
					<-exited
				}
				if t.Failed() {
					t.Logf("mailpit output:\n%s", out.String())
				}
			})
			return s
		}
		_ = cmd.Process.Kill()
		<-exited
		lastErr = fmt.Errorf("%w\nmailpit output:\n%s", lastErr, out.String())
	}
	t.Fatalf("mailpittest: mailpit did not start: %v", lastErr)
	return nil
}

// waitReady waits until both listeners accept connections and the API
// answers, or mailpit has exited.
func (s *Server) waitReady(exited <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-exited:
			return errors.New("mailpit exited")
		default:
		}
		if s.ready() {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("mailpit is not ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *Server) ready() bool {
	c, err := net.DialTimeout("tcp", s.SMTPAddr(), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	resp, err := s.client.Get(s.api + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Message is a message as mailpit received it.
type Message struct {
	ID       string
	From     mail.Address
	To       []mail.Address
	Cc, Bcc  []mail.Address
	Subject  string
	Text     string // the text/plain part, decoded
	HTML     string // the text/html part, decoded
	Username string // the SMTP AUTH user that sent it, if any
}

// Messages returns the messages mailpit holds, newest first.
func (s *Server) Messages(t testing.TB) []Message {
	t.Helper()
	var list struct {
		Messages []Message `json:"messages"`
	}
	s.call(t, http.MethodGet, "/api/v1/messages?limit=500", nil, &list)
	return list.Messages
}

// WaitMessage waits until mailpit holds a message to the address to and
// returns it (the newest, if there are several), read in full. It fails
// the test if none arrives within 30 seconds.
func (s *Server) WaitMessage(t testing.TB, to string) Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, m := range s.Messages(t) {
			for _, a := range m.To {
				if strings.EqualFold(a.Address, to) {
					var full Message
					s.call(t, http.MethodGet, "/api/v1/message/"+m.ID, nil, &full)
					return full
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpittest: no message to %s arrived", to)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// SetChaos sets mailpit's chaos triggers (Options.Chaos must be on):
// each of "Sender" (MAIL FROM), "Recipient" (RCPT TO) and
// "Authentication" (AUTH) named in triggers answers its command with
// the SMTP reply code given, always; the others are turned off. A nil
// map turns every trigger off.
func (s *Server) SetChaos(t testing.TB, triggers map[string]int) {
	t.Helper()
	type trigger struct{ ErrorCode, Probability int }
	body := map[string]trigger{}
	for name, code := range triggers {
		body[name] = trigger{ErrorCode: code, Probability: 100}
	}
	s.call(t, http.MethodPut, "/api/v1/chaos", body, nil)
}

// call sends a request with body as JSON to the API and decodes the
// answer into out, failing the test on any error.
func (s *Server) call(t testing.TB, method, path string, body, out any) {
	t.Helper()
	var in io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		in = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.api+path, in)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("mailpittest: %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		t.Fatalf("mailpittest: %s %s: %v", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpittest: %s %s: %s: %s", method, path, resp.Status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("mailpittest: %s %s: %v", method, path, err)
		}
	}
}

// newCertificate writes a self-signed certificate for Host and its key
// to dir, and returns their paths and a pool that trusts the
// certificate.
func newCertificate(t testing.TB, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "mailpittest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP(Host)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// freePort returns a TCP port on Host that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(Host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
