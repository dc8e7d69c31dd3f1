package smtpmail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	gomail "github.com/wneessen/go-mail"
	"golang.org/x/net/idna"

	"github.com/gatehouse-go/gatehouse/auth"
)

// ErrInvalidConfig is wrapped by the errors of [New] and [ParseURL] for a
// configuration that cannot be used.
var ErrInvalidConfig = errors.New("smtpmail: invalid config")

// maxRetryWait bounds the wait between two attempts.
const maxRetryWait = 30 * time.Second

// TLSMode is how a [Sender] secures its connection.
type TLSMode int

const (
	// StartTLS connects in plain text and upgrades the connection with
	// STARTTLS before anything else is sent; a server that does not offer
	// STARTTLS is refused. Default port 587.
	StartTLS TLSMode = iota
	// ImplicitTLS speaks TLS from the first byte (SMTPS). Default port 465.
	ImplicitTLS
	// NoTLS sends everything, credentials included, in plain text: only to
	// a loopback host (localhost, 127.0.0.0/8, ::1), as in development.
	// Default port 25.
	NoTLS
)

// String returns the name of the constant: "StartTLS", "ImplicitTLS" or
// "NoTLS".
func (m TLSMode) String() string {
	switch m {
	case StartTLS:
		return "StartTLS"
	case ImplicitTLS:
		return "ImplicitTLS"
	case NoTLS:
		return "NoTLS"
	}
	return "TLSMode(" + strconv.Itoa(int(m)) + ")"
}

// Config configures a [Sender].
type Config struct {
	// Host is the SMTP server's name or IP address, without a port.
	// Required.
	Host string

	// Port is the server's port. Default: 587 for StartTLS, 465 for
	// ImplicitTLS, 25 for NoTLS.
	Port int

	// TLS is how the connection is secured. Default: StartTLS.
	TLS TLSMode

	// TLSConfig, if set, is cloned and used for the TLS connection (for a
	// private CA, say); its ServerName defaults to Host, and a MinVersion
	// below TLS 1.2 is raised to it. Default: the system's roots,
	// ServerName Host, TLS 1.2 or later.
	TLSConfig *tls.Config

	// Username and Password are the credentials of SMTP AUTH, which is
	// used if Username is set: PLAIN if the server offers it, else LOGIN.
	// Both or neither must be set. Default: no AUTH.
	Username, Password string

	// From is the sender of every message, an address with an optional
	// display name ("Example <no-reply@example.com>"), used for the From
	// header and as the envelope sender. Required.
	From string

	// Timeout bounds one attempt to deliver a message: connecting, TLS,
	// AUTH and the transfer. Default: 15 seconds.
	Timeout time.Duration

	// Attempts is how many times a message is tried when the failures
	// are temporary; 1 turns retries off. Default: 3.
	Attempts int

	// RetryWait is the wait before the first retry; each further retry
	// waits twice as long as the one before, up to 30 seconds. Default:
	// 1 second.
	RetryWait time.Duration
}

// Sender sends the messages of an [auth.Service] to an SMTP server: set
// it as auth.Config.Mailer. Each message is delivered over a connection
// of its own. A Sender is safe for concurrent use.
type Sender struct {
	host      string
	port      int
	mode      TLSMode
	tlsConfig *tls.Config
	username  string
	password  string
	from      *mail.Address
	timeout   time.Duration
	attempts  int
	retryWait time.Duration

	// failed, if set, is called after each failed attempt (tests only).
	failed func(attempt int, err error)
}

var _ auth.Mailer = (*Sender)(nil)

// New returns a Sender configured by cfg, or an error wrapping
// [ErrInvalidConfig] if cfg cannot be used: no Host or From, a From that
// is not an address, a Username without a Password or the reverse, NoTLS
// to a host that is not a loopback host, or a negative or out-of-range
// number. New connects to nothing.
func New(cfg Config) (*Sender, error) {
	bad := func(format string, a ...any) (*Sender, error) {
		return nil, fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, a...))
	}
	host := cfg.Host
	if host == "" {
		return bad("no Host")
	}
	if strings.ContainsAny(host, "/[] \t\r\n") || (strings.Contains(host, ":") && net.ParseIP(host) == nil) {
		return bad("Host %q is not a host name or IP address (the port goes in Port)", host)
	}
	s := &Sender{host: host, port: cfg.Port, mode: cfg.TLS, username: cfg.Username, password: cfg.Password,
		timeout: cfg.Timeout, attempts: cfg.Attempts, retryWait: cfg.RetryWait}
	switch cfg.TLS {
	case StartTLS, ImplicitTLS:
	case NoTLS:
		if !isLoopback(host) {
			return bad("NoTLS is only for a loopback host, not %q: use StartTLS or ImplicitTLS", host)
		}
	default:
		return bad("unknown TLS mode %v", cfg.TLS)
	}
	if s.port < 0 || s.port > 65535 {
		return bad("Port %d out of range", s.port)
	}
	if s.port == 0 {
		s.port = map[TLSMode]int{StartTLS: 587, ImplicitTLS: 465, NoTLS: 25}[cfg.TLS]
	}
	if (cfg.Username == "") != (cfg.Password == "") {
		return bad("Username and Password go together: set both or neither")
	}
	if cfg.From == "" {
		return bad("no From address")
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return bad("From %q is not an address", cfg.From)
	}
	if from.Address, err = asciiDomain(from.Address); err != nil {
		return bad("From %q: %v", cfg.From, err)
	}
	s.from = from
	if cfg.Timeout < 0 || cfg.RetryWait < 0 || cfg.Attempts < 0 {
		return bad("negative Timeout, RetryWait or Attempts")
	}
	if s.timeout == 0 {
		s.timeout = 15 * time.Second
	}
	if s.attempts == 0 {
		s.attempts = 3
	}
	if s.retryWait == 0 {
		s.retryWait = time.Second
	}
	if cfg.TLSConfig != nil {
		s.tlsConfig = cfg.TLSConfig.Clone()
	} else {
		s.tlsConfig = &tls.Config{}
	}
	if s.tlsConfig.ServerName == "" {
		s.tlsConfig.ServerName = host
	}
	if s.tlsConfig.MinVersion < tls.VersionTLS12 {
		s.tlsConfig.MinVersion = tls.VersionTLS12
	}
	return s, nil
}

// Send delivers m to m.To, retrying temporary failures (see the package
// documentation), and returns the error of the last attempt, or one
// wrapping ctx.Err() if ctx ends first. It returns no error once the
// server has accepted the message.
func (s *Sender) Send(ctx context.Context, m auth.Message) error {
	msg, err := s.message(m)
	if err != nil {
		return err
	}
	wait := s.retryWait
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("smtpmail: %s: not sent: %w", s.addr(), err)
		}
		err := s.try(ctx, msg)
		if err == nil {
			return nil
		}
		if s.failed != nil {
			s.failed(attempt, err)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("smtpmail: %s: %w (attempt %d: %w)", s.addr(), ctx.Err(), attempt, err)
		}
		if !temporary(err) {
			return fmt.Errorf("smtpmail: %s: %w", s.addr(), err)
		}
		if attempt == s.attempts {
			return fmt.Errorf("smtpmail: %s: %d attempts failed, the last: %w", s.addr(), attempt, err)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return fmt.Errorf("smtpmail: %s: no time left to retry (attempt %d: %w)", s.addr(), attempt, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("smtpmail: %s: %w (attempt %d: %w)", s.addr(), ctx.Err(), attempt, err)
		case <-t.C:
		}
		wait = min(2*wait, maxRetryWait)
	}
}

func (s *Sender) addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// message builds the go-mail message of m.
func (s *Sender) message(m auth.Message) (*gomail.Msg, error) {
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("smtpmail: recipient %q is not an address", m.To)
	}
	if to.Address, err = asciiDomain(to.Address); err != nil {
		return nil, fmt.Errorf("smtpmail: recipient %q: %w", m.To, err)
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(s.from)
	msg.ToMailAddress(to)
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// try makes one attempt to deliver msg, within s.timeout. When ctx or
// the attempt's time ends, the connection is closed, which ends the
// exchange at once.
func (s *Sender) try(ctx context.Context, msg *gomail.Msg) error {
	actx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var stop func() bool
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		d := &net.Dialer{}
		var c net.Conn
		var err error
		if s.mode == ImplicitTLS {
			c, err = (&tls.Dialer{NetDialer: d, Config: s.tlsConfig}).DialContext(dctx, network, addr)
		} else {
			c, err = d.DialContext(dctx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		stop = context.AfterFunc(actx, func() { c.Close() })
		return c, nil
	}
	opts := []gomail.Option{
		gomail.WithPort(s.port),
		gomail.WithTimeout(s.timeout),
		gomail.WithDialContextFunc(dial),
		gomail.WithTLSConfig(s.tlsConfig),
	}
	if s.mode == StartTLS {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	} else {
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS)) // ImplicitTLS: the dialer does TLS
	}
	if s.username != "" {
		// PLAIN and LOGIN refuse a connection without TLS unless told
		// otherwise; New allows one only to a loopback host.
		mechs := []gomail.SMTPAuthType{gomail.SMTPAuthPlain, gomail.SMTPAuthLogin}
		if s.mode == NoTLS {
			mechs = []gomail.SMTPAuthType{gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthLoginNoEnc}
		}
		opts = append(opts, gomail.WithOpportunisticSMTPAuth(mechs...),
			gomail.WithUsername(s.username), gomail.WithPassword(s.password))
	}
	c, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return err
	}
	err = c.DialAndSendWithContext(actx, msg)
	// The attempt's context and go-mail's deadlines on the connection
	// end it at about the same time: either way, it timed out.
	var ne net.Error
	if err != nil && ctx.Err() == nil && (actx.Err() != nil || (errors.As(err, &ne) && ne.Timeout())) {
		return &timeoutError{d: s.timeout, err: err}
	}
	return err
}

// timeoutError is an attempt that took longer than Config.Timeout.
type timeoutError struct {
	d   time.Duration
	err error
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("attempt timed out after %v: %v", e.d, e.err)
}

func (e *timeoutError) Unwrap() []error { return []error{context.DeadlineExceeded, e.err} }

// temporary reports whether err, from an attempt, is worth another: a
// 4xx reply, or trouble with the connection; not a 5xx reply, nor a
// certificate or TLS failure, nor anything else.
func temporary(err error) bool {
	var te *timeoutError
	if errors.As(err, &te) {
		return true
	}
	var se *gomail.SendError
	if errors.As(err, &se) {
		if code := se.ErrorCode(); code != 0 {
			return code >= 400 && code < 500
		}
		switch se.Reason {
		case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
			return false
		}
		return true // the connection failed while sending
	}
	var pe *textproto.Error
	if errors.As(err, &pe) {
		return pe.Code >= 400 && pe.Code < 500
	}
	var (
		cve *tls.CertificateVerificationError
		uae x509.UnknownAuthorityError
		hne x509.HostnameError
		cie x509.CertificateInvalidError
		rhe tls.RecordHeaderError
	)
	if errors.As(err, &cve) || errors.As(err, &uae) || errors.As(err, &hne) || errors.As(err, &cie) || errors.As(err, &rhe) {
		return false
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Op != "remote error" && oe.Op != "local error" // TLS alerts
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, net.ErrClosed)
}

// asciiDomain returns addr with its domain in ASCII (IDNA A-labels), as
// SMTP servers without SMTPUTF8 need it.
func asciiDomain(addr string) (string, error) {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return addr, nil
	}
	domain, err := idna.Lookup.ToASCII(addr[at+1:])
	if err != nil {
		return "", fmt.Errorf("domain is not a valid IDNA name: %w", err)
	}
	return addr[:at+1] + domain, nil
}

// isLoopback reports whether host is localhost or a loopback IP address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ParseURL parses an SMTP server URL into a Config (without From, which
// the caller sets):
//
//	smtp://[user:password@]host[:port]    StartTLS, port 587 by default
//	smtps://[user:password@]host[:port]   ImplicitTLS, port 465 by default
//
// An smtp:// URL whose host is a loopback host (localhost, 127.0.0.0/8,
// ::1), whose connection does not leave the machine, gives NoTLS and port
// 25 by default instead: smtp://localhost:1025 reaches a development
// mailpit. The user and password are percent-decoded, so a password with
// reserved characters is written escaped ("p%40ss" for "p@ss"). A path
// other than "/", a query or a fragment is an error. Errors wrap
// [ErrInvalidConfig] and never contain the URL, which holds the password.
func ParseURL(rawURL string) (Config, error) {
	bad := func(why string) (Config, error) {
		return Config{}, fmt.Errorf("%w: SMTP URL: %s (want smtp://[user:password@]host:port or smtps://...)", ErrInvalidConfig, why)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return bad("it does not parse")
	}
	var cfg Config
	switch u.Scheme {
	case "smtp":
		cfg.TLS = StartTLS
	case "smtps":
		cfg.TLS = ImplicitTLS
	default:
		return bad("the scheme must be smtp or smtps")
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return bad("it has no host")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return bad("it has a path, query or fragment")
	}
	cfg.Host = u.Hostname()
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return bad("the port must be 1 to 65535")
		}
		cfg.Port = n
	}
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
	}
	if cfg.TLS == StartTLS && isLoopback(cfg.Host) {
		cfg.TLS = NoTLS
	}
	return cfg, nil
}
