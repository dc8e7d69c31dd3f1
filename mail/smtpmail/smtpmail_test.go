package smtpmail

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/mailpittest"
)

// newSender returns New(cfg) for the mailpit srv, failing the test if
// New fails, with a failed hook that counts the failed attempts (and
// calls onFail, if set).
func newSender(t *testing.T, srv *mailpittest.Server, cfg Config, onFail func(attempt int, err error)) (*Sender, *attempts) {
	t.Helper()
	if srv != nil {
		cfg.Host, cfg.Port = srv.Host, srv.SMTPPort
		if srv.RootCAs != nil && cfg.TLSConfig == nil {
			cfg.TLSConfig = &tls.Config{RootCAs: srv.RootCAs}
		}
	}
	if cfg.From == "" {
		cfg.From = "Gatehouse <no-reply@example.com>"
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	a := &attempts{}
	s.failed = func(attempt int, err error) {
		a.add(err)
		if onFail != nil {
			onFail(attempt, err)
		}
	}
	return s, a
}

// attempts records the failed attempts of a Sender.
type attempts struct {
	mu   sync.Mutex
	errs []error
}

func (a *attempts) add(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.errs = append(a.errs, err)
}

func (a *attempts) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.errs)
}

func message(to string) auth.Message {
	return auth.Message{To: to, Subject: "Hello", Text: "text part\n", HTML: "<p>html part</p>"}
}

// normalize makes the line ends of a part read back from mailpit \n,
// and drops trailing ones.
func normalize(s string) string {
	return strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
}

// TestSendPlain delivers over a plain loopback connection and checks
// that what arrives is what was sent.
func TestSendPlain(t *testing.T) {
	srv := mailpittest.Start(t, mailpittest.Options{})
	s, failed := newSender(t, srv, Config{TLS: NoTLS, From: "Gatehouse Zürich <no-reply@example.com>"}, nil)

	t.Run("text and HTML parts, non-ASCII subject and name", func(t *testing.T) {
		link := "https://app.example.com/verify-email?token=" + strings.Repeat("AbC-_9", 20)
		m := auth.Message{
			To:      "zoe@example.com",
			Subject: "Bienvenue Zoë, vérifiez votre adresse ✓",
			Text:    "Hello Zoë Ünal,\n\nopen this link:\n\n" + link + "\n\nThe link works once = for 24 hours.\n",
			HTML:    `<p>Hello Zoë Ünal &amp; co,</p><p><a href="` + link + `">Verify</a></p>`,
		}
		if err := s.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		got := srv.WaitMessage(t, m.To)
		if got.Subject != m.Subject {
			t.Errorf("subject %q, want %q", got.Subject, m.Subject)
		}
		if normalize(got.Text) != normalize(m.Text) {
			t.Errorf("text part\n%q\nwant\n%q", got.Text, m.Text)
		}
		if normalize(got.HTML) != m.HTML {
			t.Errorf("HTML part\n%q\nwant\n%q", got.HTML, m.HTML)
		}
		if got.From.Name != "Gatehouse Zürich" || got.From.Address != "no-reply@example.com" {
			t.Errorf("from %+v", got.From)
		}
		if len(got.To) != 1 || got.To[0].Address != m.To {
			t.Errorf("to %+v", got.To)
		}
	})

	t.Run("text only", func(t *testing.T) {
		m := auth.Message{To: "text-only@example.com", Subject: "Plain", Text: "only text\n"}
		if err := s.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		got := srv.WaitMessage(t, m.To)
		if normalize(got.Text) != "only text" || got.HTML != "" {
			t.Errorf("text %q, HTML %q", got.Text, got.HTML)
		}
	})

	t.Run("line breaks in the subject start no header", func(t *testing.T) {
		m := message("injection@example.com")
		m.Subject = "Hi\r\nBcc: victim@example.com\r\nX-Injected: yes"
		if err := s.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		got := srv.WaitMessage(t, m.To)
		if len(got.Bcc) != 0 || len(got.Cc) != 0 || len(got.To) != 1 {
			t.Errorf("recipients to %v, cc %v, bcc %v", got.To, got.Cc, got.Bcc)
		}
		if !strings.HasPrefix(got.Subject, "Hi") {
			t.Errorf("subject %q", got.Subject)
		}
		for _, msg := range srv.Messages(t) {
			for _, a := range msg.To {
				if a.Address == "victim@example.com" {
					t.Error("a message reached the injected Bcc")
				}
			}
		}
	})

	t.Run("internationalized domain sent as A-labels", func(t *testing.T) {
		if err := s.Send(context.Background(), message("user@bücher.example")); err != nil {
			t.Fatal(err)
		}
		srv.WaitMessage(t, "user@xn--bcher-kva.example")
	})

	t.Run("invalid recipient", func(t *testing.T) {
		err := s.Send(context.Background(), message("not an address"))
		if err == nil || !strings.Contains(err.Error(), "not an address") {
			t.Errorf("Send: %v", err)
		}
	})

	if n := failed.count(); n != 0 {
		t.Errorf("%d failed attempts, want 0", n)
	}
}

// TestSendTLS delivers over STARTTLS and implicit TLS, and refuses a
// server that offers no STARTTLS or whose certificate does not verify.
func TestSendTLS(t *testing.T) {
	t.Run("STARTTLS", func(t *testing.T) {
		srv := mailpittest.Start(t, mailpittest.Options{TLS: mailpittest.StartTLS})
		s, _ := newSender(t, srv, Config{TLS: StartTLS}, nil)
		if err := s.Send(context.Background(), message("starttls@example.com")); err != nil {
			t.Fatal(err)
		}
		srv.WaitMessage(t, "starttls@example.com")

		t.Run("certificate not trusted", func(t *testing.T) {
			s, failed := newSender(t, srv, Config{TLS: StartTLS, TLSConfig: &tls.Config{}}, nil)
			err := s.Send(context.Background(), message("untrusted@example.com"))
			var cve *tls.CertificateVerificationError
			if !errors.As(err, &cve) {
				t.Errorf("Send: %v, want a certificate verification error", err)
			}
			if n := failed.count(); n != 1 {
				t.Errorf("%d attempts, want 1: a certificate error is permanent", n)
			}
		})
	})

	t.Run("implicit TLS", func(t *testing.T) {
		srv := mailpittest.Start(t, mailpittest.Options{TLS: mailpittest.ImplicitTLS})
		s, _ := newSender(t, srv, Config{TLS: ImplicitTLS}, nil)
		if err := s.Send(context.Background(), message("implicit@example.com")); err != nil {
			t.Fatal(err)
		}
		srv.WaitMessage(t, "implicit@example.com")
	})

	t.Run("STARTTLS required, not offered", func(t *testing.T) {
		srv := mailpittest.Start(t, mailpittest.Options{})
		// 127.0.0.1 is a loopback host, but StartTLS still requires TLS.
		s, failed := newSender(t, srv, Config{TLS: StartTLS}, nil)
		err := s.Send(context.Background(), message("downgrade@example.com"))
		if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
			t.Errorf("Send: %v, want an error naming STARTTLS", err)
		}
		if n := failed.count(); n != 1 {
			t.Errorf("%d attempts, want 1", n)
		}
		if n := len(srv.Messages(t)); n != 0 {
			t.Errorf("%d messages delivered without TLS", n)
		}
	})
}

// TestSendAuth logs in with SMTP AUTH, and reports refused credentials
// without naming the password.
func TestSendAuth(t *testing.T) {
	const user, password = "relay-user", "relay-secret-password"
	srv := mailpittest.Start(t, mailpittest.Options{TLS: mailpittest.StartTLS, Username: user, Password: password})

	t.Run("accepted", func(t *testing.T) {
		s, _ := newSender(t, srv, Config{Username: user, Password: password}, nil)
		if err := s.Send(context.Background(), message("auth@example.com")); err != nil {
			t.Fatal(err)
		}
		if got := srv.WaitMessage(t, "auth@example.com"); got.Username != user {
			t.Errorf("sent as %q, want %q", got.Username, user)
		}
	})

	t.Run("refused", func(t *testing.T) {
		const wrong = "wrong-secret-password"
		s, failed := newSender(t, srv, Config{Username: user, Password: wrong}, nil)
		err := s.Send(context.Background(), message("refused@example.com"))
		if err == nil || !strings.Contains(err.Error(), "535") {
			t.Fatalf("Send: %v, want a 535 reply", err)
		}
		if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), password) {
			t.Errorf("the error names the password: %v", err)
		}
		if n := failed.count(); n != 1 {
			t.Errorf("%d attempts, want 1: refused credentials are permanent", n)
		}
	})

	t.Run("required, not given", func(t *testing.T) {
		s, failed := newSender(t, srv, Config{}, nil)
		if err := s.Send(context.Background(), message("anonymous@example.com")); err == nil {
			t.Fatal("Send without AUTH succeeded")
		}
		if n := failed.count(); n != 1 {
			t.Errorf("%d attempts, want 1", n)
		}
	})
}

// TestSendRetry retries temporary failures (mailpit's chaos answers RCPT
// TO with the reply code asked for) and not permanent ones.
func TestSendRetry(t *testing.T) {
	srv := mailpittest.Start(t, mailpittest.Options{Chaos: true})
	t.Cleanup(func() { srv.SetChaos(t, nil) })
	cfg := Config{TLS: NoTLS, Attempts: 3, RetryWait: time.Millisecond}

	t.Run("temporary failure, then success", func(t *testing.T) {
		srv.SetChaos(t, map[string]int{"Recipient": 451})
		s, failed := newSender(t, srv, cfg, func(attempt int, err error) {
			if attempt == 1 {
				srv.SetChaos(t, nil) // the server recovers before the retry
			}
		})
		if err := s.Send(context.Background(), message("retried@example.com")); err != nil {
			t.Fatal(err)
		}
		srv.WaitMessage(t, "retried@example.com")
		if n := failed.count(); n != 1 || !strings.Contains(failed.errs[0].Error(), "451") {
			t.Errorf("failed attempts %v, want one 451", failed.errs)
		}
	})

	t.Run("temporary failures until the attempts run out", func(t *testing.T) {
		srv.SetChaos(t, map[string]int{"Recipient": 421})
		defer srv.SetChaos(t, nil)
		s, failed := newSender(t, srv, cfg, nil)
		err := s.Send(context.Background(), message("exhausted@example.com"))
		if err == nil || !strings.Contains(err.Error(), "421") || !strings.Contains(err.Error(), "3 attempts") {
			t.Errorf("Send: %v", err)
		}
		if n := failed.count(); n != 3 {
			t.Errorf("%d attempts, want 3", n)
		}
	})

	t.Run("permanent failure not retried", func(t *testing.T) {
		srv.SetChaos(t, map[string]int{"Recipient": 550})
		defer srv.SetChaos(t, nil)
		s, failed := newSender(t, srv, cfg, nil)
		err := s.Send(context.Background(), message("permanent@example.com"))
		if err == nil || !strings.Contains(err.Error(), "550") {
			t.Errorf("Send: %v, want the 550 reply", err)
		}
		if n := failed.count(); n != 1 {
			t.Errorf("%d attempts, want 1", n)
		}
	})

	t.Run("ctx canceled during the wait", func(t *testing.T) {
		srv.SetChaos(t, map[string]int{"Sender": 451})
		defer srv.SetChaos(t, nil)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s, failed := newSender(t, srv, Config{TLS: NoTLS, RetryWait: time.Hour}, func(int, error) { cancel() })
		err := s.Send(ctx, message("canceled@example.com"))
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "451") {
			t.Errorf("Send: %v, want context.Canceled after the 451", err)
		}
		if n := failed.count(); n != 1 {
			t.Errorf("%d attempts, want 1", n)
		}
	})

	t.Run("no wait past the ctx deadline", func(t *testing.T) {
		srv.SetChaos(t, map[string]int{"Sender": 451})
		defer srv.SetChaos(t, nil)
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		s, failed := newSender(t, srv, Config{TLS: NoTLS, RetryWait: 2 * time.Hour}, nil)
		err := s.Send(ctx, message("deadline@example.com"))
		if err == nil || !strings.Contains(err.Error(), "no time left") || ctx.Err() != nil {
			t.Errorf("Send: %v (ctx %v), want it to give up at once", err, ctx.Err())
		}
		if n := failed.count(); n != 1 {
			t.Errorf("%d attempts, want 1", n)
		}
	})
}

// TestSendCanceled returns without an attempt for a ctx already done, and
// ends an attempt under way when ctx is canceled.
func TestSendCanceled(t *testing.T) {
	t.Run("before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		s, failed := newSender(t, nil, Config{Host: "127.0.0.1", Port: closedPort(t), TLS: NoTLS}, nil)
		if err := s.Send(ctx, message("early@example.com")); !errors.Is(err, context.Canceled) {
			t.Errorf("Send: %v, want context.Canceled", err)
		}
		if n := failed.count(); n != 0 {
			t.Errorf("%d attempts, want 0", n)
		}
	})

	t.Run("during an attempt", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// A server that accepts and then says nothing: the attempt waits
		// for its greeting until ctx is canceled.
		port := silentServer(t, cancel)
		s, failed := newSender(t, nil, Config{Host: "127.0.0.1", Port: port, TLS: NoTLS, Timeout: time.Hour}, nil)
		if err := s.Send(ctx, message("midway@example.com")); !errors.Is(err, context.Canceled) {
			t.Errorf("Send: %v, want context.Canceled", err)
		}
		if n := failed.count(); n != 1 {
			t.Errorf("%d attempts, want 1", n)
		}
	})
}

// TestSendServerDown returns an error after the configured attempts when
// the server refuses connections or never answers.
func TestSendServerDown(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		s, failed := newSender(t, nil, Config{Host: "127.0.0.1", Port: closedPort(t), TLS: NoTLS,
			Attempts: 2, RetryWait: time.Millisecond}, nil)
		err := s.Send(context.Background(), message("down@example.com"))
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("Send: %v, want connection refused", err)
		}
		if n := failed.count(); n != 2 {
			t.Errorf("%d attempts, want 2: a refused connection is temporary", n)
		}
	})

	t.Run("no answer within Timeout", func(t *testing.T) {
		port := silentServer(t, nil)
		s, failed := newSender(t, nil, Config{Host: "127.0.0.1", Port: port, TLS: NoTLS,
			Timeout: 50 * time.Millisecond, Attempts: 2, RetryWait: time.Millisecond}, nil)
		err := s.Send(context.Background(), message("silent@example.com"))
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out") {
			t.Errorf("Send: %v, want a timeout", err)
		}
		if n := failed.count(); n != 2 {
			t.Errorf("%d attempts, want 2", n)
		}
	})
}

// closedPort returns a loopback port on which nothing listens.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// silentServer listens on a loopback port and accepts connections
// without ever writing to them; after each accept it calls accepted, if
// set. It stops when the test ends.
func silentServer(t *testing.T, accepted func()) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Go(func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			if accepted != nil {
				accepted()
			}
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

func TestNew(t *testing.T) {
	ok := Config{Host: "smtp.example.com", From: "no-reply@example.com"}
	t.Run("defaults", func(t *testing.T) {
		for mode, port := range map[TLSMode]int{StartTLS: 587, ImplicitTLS: 465, NoTLS: 25} {
			cfg := ok
			cfg.TLS = mode
			if mode == NoTLS {
				cfg.Host = "localhost"
			}
			s, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if s.port != port || s.timeout != 15*time.Second || s.attempts != 3 || s.retryWait != time.Second ||
				s.tlsConfig.ServerName != cfg.Host || s.tlsConfig.MinVersion != tls.VersionTLS12 {
				t.Errorf("%v: %+v", mode, s)
			}
		}
	})

	t.Run("TLSConfig is cloned", func(t *testing.T) {
		cfg := ok
		cfg.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS10}
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.TLSConfig.MinVersion != tls.VersionTLS10 || cfg.TLSConfig.ServerName != "" || s.tlsConfig.MinVersion != tls.VersionTLS12 {
			t.Errorf("caller's %+v, sender's %+v", cfg.TLSConfig, s.tlsConfig)
		}
	})

	for name, edit := range map[string]func(*Config){
		"no host":                 func(c *Config) { c.Host = "" },
		"host with port":          func(c *Config) { c.Host = "smtp.example.com:587" },
		"host a URL":              func(c *Config) { c.Host = "smtp://smtp.example.com" },
		"NoTLS to a remote host":  func(c *Config) { c.TLS = NoTLS },
		"NoTLS to a private host": func(c *Config) { c.TLS, c.Host = NoTLS, "10.0.0.1" },
		"unknown TLS mode":        func(c *Config) { c.TLS = 7 },
		"port out of range":       func(c *Config) { c.Port = 65536 },
		"negative port":           func(c *Config) { c.Port = -1 },
		"username only":           func(c *Config) { c.Username = "user" },
		"password only":           func(c *Config) { c.Password = "secret-password" },
		"no From":                 func(c *Config) { c.From = "" },
		"From not an address":     func(c *Config) { c.From = "no-reply" },
		"negative Timeout":        func(c *Config) { c.Timeout = -time.Second },
		"negative Attempts":       func(c *Config) { c.Attempts = -1 },
		"negative RetryWait":      func(c *Config) { c.RetryWait = -time.Second },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := ok
			edit(&cfg)
			_, err := New(cfg)
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("New: %v, want ErrInvalidConfig", err)
			}
			if strings.Contains(err.Error(), "secret-password") {
				t.Errorf("the error names the password: %v", err)
			}
		})
	}

	for _, host := range []string{"localhost", "127.0.0.1", "127.1.2.3", "::1"} {
		cfg := ok
		cfg.TLS, cfg.Host = NoTLS, host
		if _, err := New(cfg); err != nil {
			t.Errorf("NoTLS to %s: %v", host, err)
		}
	}
}

func TestParseURL(t *testing.T) {
	const secret = "p@ss:w/rd"
	for _, tc := range []struct {
		url  string
		want Config
	}{
		{"smtp://smtp.example.com:587", Config{Host: "smtp.example.com", Port: 587, TLS: StartTLS}},
		{"smtp://smtp.example.com", Config{Host: "smtp.example.com", TLS: StartTLS}},
		{"smtps://user:p%40ss%3Aw%2Frd@smtp.example.com:465/", Config{Host: "smtp.example.com", Port: 465, TLS: ImplicitTLS, Username: "user", Password: secret}},
		{"smtp://apikey:p%40ss%3Aw%2Frd@[2001:db8::1]:2525", Config{Host: "2001:db8::1", Port: 2525, TLS: StartTLS, Username: "apikey", Password: secret}},
		{"smtp://localhost:1025", Config{Host: "localhost", Port: 1025, TLS: NoTLS}},
		{"smtp://127.0.0.1:1025", Config{Host: "127.0.0.1", Port: 1025, TLS: NoTLS}},
		{"smtp://[::1]:1025", Config{Host: "::1", Port: 1025, TLS: NoTLS}},
		{"smtps://localhost:1465", Config{Host: "localhost", Port: 1465, TLS: ImplicitTLS}},
	} {
		got, err := ParseURL(tc.url)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tc.url, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseURL(%q) = %+v, want %+v", tc.url, got, tc.want)
		}
	}

	for _, bad := range []string{
		"",
		"smtp.example.com:587",
		"user:p%40ss%3Aw%2Frd@smtp.example.com:587",
		"http://user:p%40ss%3Aw%2Frd@smtp.example.com",
		"smtp://user:p%40ss%3Aw%2Frd@",
		"smtp://user:p%40ss%3Aw%2Frd@smtp.example.com:0",
		"smtp://user:p%40ss%3Aw%2Frd@smtp.example.com:70000",
		"smtp://user:p%40ss%3Aw%2Frd@smtp.example.com:smtp",
		"smtp://user:p%40ss%3Aw%2Frd@smtp.example.com/path",
		"smtp://user:p%40ss%3Aw%2Frd@smtp.example.com?tls=none",
		"smtp://user:p%40ss%3Aw%2Frd@smtp.example.com?",
		"smtp://user:p%40ss%3Aw%2Frd@smtp.example.com#x",
		"smtp://user:p%zzss@smtp.example.com",
		"smtp://user:pass word@smtp.example.com",
	} {
		_, err := ParseURL(bad)
		if !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("ParseURL(%q): %v, want ErrInvalidConfig", bad, err)
			continue
		}
		for _, s := range []string{"p%40ss", secret, "p%zzss", "pass word", "%zz"} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("ParseURL(%q): the error %q names the password", bad, err)
			}
		}
	}

	// A parsed URL with From set is a Config New accepts.
	cfg, err := ParseURL("smtp://localhost:" + strconv.Itoa(1025))
	if err != nil {
		t.Fatal(err)
	}
	cfg.From = "dev@localhost"
	if _, err := New(cfg); err != nil {
		t.Errorf("New(ParseURL(...)): %v", err)
	}
}
